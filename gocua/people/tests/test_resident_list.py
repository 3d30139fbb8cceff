"""The resident search list: unit managers and above, scoped, masked, paginated."""

import pytest

from conftest import make_resident


@pytest.fixture
def people(tree):
    return {
        "an": make_resident(tree.kp1, name="Nguyễn Văn An", phone="0912345678"),
        "binh": make_resident(tree.kp2, name="Trần Thị Bình", sex="F"),
        "cuong": make_resident(tree.b_kp1, name="Lê Văn Cường", phone="0987654321"),
    }


def test_it_lists_the_residents_of_the_jurisdiction_masked(client, bob, people):
    client.force_login(bob)
    page = client.get("/residents/").content.decode()
    an = people["an"]
    assert "Nguyễn Văn An" in page and "Trần Thị Bình" in page
    assert "Lê Văn Cường" not in page
    assert an.national_id not in page and an.national_id[:3] + "******" in page
    assert "0912345678" not in page


def test_it_searches_by_name_by_post(client, bob, people):
    client.force_login(bob)
    page = client.post("/residents/", {"q": "bình"}).content.decode()
    assert "Trần Thị Bình" in page and "Nguyễn Văn An" not in page


def test_it_searches_by_whole_national_id_only_inside_the_jurisdiction(client, bob, people):
    client.force_login(bob)
    an, cuong = people["an"], people["cuong"]
    assert "Nguyễn Văn An" in client.post("/residents/", {"q": an.national_id}).content.decode()
    partial = client.post("/residents/", {"q": an.national_id[:8]}).content.decode()
    assert "Nguyễn Văn An" not in partial
    foreign = client.post("/residents/", {"q": cuong.national_id}).content.decode()
    assert "Lê Văn Cường" not in foreign and "Không tìm thấy" in foreign


def test_it_narrows_to_a_unit_and_404s_outside(client, bob, people):
    client.force_login(bob)
    page = client.get("/residents/?unit=25456-02").content.decode()
    assert "Trần Thị Bình" in page and "Nguyễn Văn An" not in page
    assert client.get("/residents/?unit=25459").status_code == 404
    assert client.get("/residents/?unit=703").status_code == 404


@pytest.mark.parametrize("persona", ["vy", "olivia"])
def test_it_is_404_for_field_members_and_viewers(client, persona, request, people):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/residents/").status_code == 404
    assert client.post("/residents/", {"q": "An"}).status_code == 404


def test_it_asks_anonymous_users_to_log_in(client, people):
    response = client.get("/residents/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_needs_csrf_for_a_search(bob, people):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bob)
    assert strict.post("/residents/", {"q": "An"}).status_code == 403


def test_it_pages_with_a_bounded_number_of_queries(
    client, alice, tree, django_assert_max_num_queries
):
    for i in range(130):
        make_resident(tree.kp1, name=f"Người Thứ {i:03d}")
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        response = client.get("/residents/?page=2")
    assert response.status_code == 200
    assert "Người Thứ 050" in response.content.decode()
    with django_assert_max_num_queries(6):
        response = client.post("/residents/", {"q": "Người", "page": "3"})
    assert "Người Thứ 100" in response.content.decode()


def test_it_survives_nul_characters(client, bob, people):
    client.force_login(bob)
    assert client.get("/residents/?unit=25%00456").status_code == 404
    assert client.post("/residents/", {"q": "Bình\x00"}).status_code == 200
