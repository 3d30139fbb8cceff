"""GET /api/v1/units/{code}/kpi."""

import pytest

from gocua.geo.models import AdminUnit


def get(client, user_token, code, **params):
    return client.get(
        f"/api/v1/units/{code}/kpi", params, HTTP_AUTHORIZATION=f"Bearer {user_token}"
    )


@pytest.fixture
def counted(tree, resident_factory):
    resident_factory(tree.kp1, stage="activated")
    resident_factory(tree.kp1, stage="none")
    resident_factory(tree.kp2, stage="registered")
    resident_factory(tree.b_kp1, stage="used")


def test_it_gives_the_row_of_the_unit_and_of_its_children(client, bob, token_for, counted):
    body = get(client, token_for(bob), "25456", edition=2023).json()
    assert body["edition"] == 2023
    assert body["unit"]["unit_code"] == "25456"
    assert (body["unit"]["eligible"], body["unit"]["registered"], body["unit"]["activated"]) == (
        3,
        2,
        1,
    )
    assert body["unit"]["registration_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert [c["unit_code"] for c in body["children"]] == ["25456-01", "25456-02"]
    assert set(body["unit"]) == {
        "unit_code",
        "unit_name",
        "level",
        "eligible",
        "registered",
        "approved",
        "failed",
        "activated",
        "used",
        "registration_rate",
        "activation_rate",
        "usage_rate",
    }


def test_it_defaults_to_the_user_s_edition(client, dan, token_for, counted):
    body = get(client, token_for(dan), "703").json()
    assert body["unit"]["eligible"] == 4
    assert [c["unit_code"] for c in body["children"]] == ["25456", "25459"]


@pytest.mark.parametrize("code", ["25459", "703", "72", "705", "25489", "nope"])
def test_it_answers_404_outside_the_jurisdiction(client, bob, token_for, counted, code):
    response = get(client, token_for(bob), code, edition=2023)
    assert response.status_code == 404
    assert response.json() == {"detail": "no such unit"}


def test_it_gives_a_viewer_aggregates_of_the_subtree(client, olivia, token_for, counted):
    assert get(client, token_for(olivia), "72").json()["unit"]["eligible"] == 4


def test_it_refuses_an_unknown_edition_with_a_readable_message(client, bob, token_for, tree):
    response = get(client, token_for(bob), "25456", edition=2024)
    assert response.status_code == 422
    assert "edition" in response.json()["detail"]


def test_it_asks_an_unrestricted_superuser_for_the_edition_when_both_are_loaded(
    client, token_for, tree
):
    from gocua.accounts.models import User

    root = User.objects.create_superuser("root", password="root-password-2026")
    AdminUnit.objects.create(
        edition=2025,
        code="80",
        name="Tỉnh Tây Ninh",
        level="province",
        path="80/",
        depth=0,
        province_code="80",
        name_key="tinhtayninh",
    )
    response = get(client, token_for(root), "72")
    assert response.status_code == 422 and "--edition" in response.json()["detail"]
    assert get(client, token_for(root), "72", edition=2023).status_code == 200
    assert get(client, token_for(root), "72", edition=2025).status_code == 404


def test_it_costs_a_bounded_number_of_queries(
    client, alice, token_for, counted, django_assert_max_num_queries
):
    token = token_for(alice)
    get(client, token, "72")  # touches last_used_at once
    # 2 of ours (token, unit); the rest is kpi_rows (reports), which must not grow with units.
    with django_assert_max_num_queries(10):
        assert get(client, token, "72").status_code == 200


def test_it_answers_404_to_a_code_with_a_nul_character(client, bob, token_for, tree):
    response = client.get(
        "/api/v1/units/25%00456/kpi", HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}"
    )
    assert response.status_code == 404
