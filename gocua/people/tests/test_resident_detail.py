"""A resident's own page: scoped, full identity for managers only, audited as a view."""

import pytest

from conftest import make_resident
from gocua.accounts.models import AuditEntry
from gocua.people.models import Household


@pytest.fixture
def family(tree):
    home = Household.objects.create(
        unit=tree.kp1, address="12 Cách Mạng Tháng Tám", province_code="72"
    )
    return {
        "an": make_resident(tree.kp1, name="Nguyễn Văn An", household=home, phone="0912345678"),
        "ba": make_resident(
            tree.kp1, name="Nguyễn Thị Ba", household=home, sex="F", phone="0987654321"
        ),
        "kp2": make_resident(tree.kp2, name="Trần Văn Hai"),
    }


def test_it_shows_managers_the_full_record_and_audits_the_view(client, bob, family, tree):
    an = family["an"]
    client.force_login(bob)
    response = client.get(f"/residents/{an.pk}/", REMOTE_ADDR="10.2.3.4")
    page = response.content.decode()
    assert response.status_code == 200
    assert an.national_id in page and "0912345678" in page
    # The housemate is listed, masked.
    ba = family["ba"]
    assert "Nguyễn Thị Ba" in page and ba.national_id not in page and "0987654321" not in page
    entry = AuditEntry.objects.get(action="view")
    assert (entry.user, entry.object_type, entry.object_id, entry.unit, entry.ip) == (
        bob,
        "resident",
        str(an.pk),
        tree.kp1,
        "10.2.3.4",
    )


def test_it_shows_a_field_member_masked_data_of_assigned_hamlets_only(client, vy, family):
    an = family["an"]
    client.force_login(vy)
    page = client.get(f"/residents/{an.pk}/").content.decode()
    assert "Nguyễn Văn An" in page
    assert an.national_id not in page and an.national_id[:3] + "******" in page
    assert "0912345678" not in page and "09*****678" in page
    assert client.get(f"/residents/{family['kp2'].pk}/").status_code == 404


@pytest.mark.parametrize("persona", ["charlie", "olivia"])
def test_it_is_404_outside_the_jurisdiction_and_for_viewers(client, persona, request, family):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(f"/residents/{family['an'].pk}/")
    assert response.status_code == 404
    assert "Nguyễn Văn An" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="view").exists()


def test_it_is_404_for_a_missing_resident(client, bob, family):
    client.force_login(bob)
    assert client.get("/residents/999999/").status_code == 404


def test_it_costs_a_bounded_number_of_queries(client, alice, family, django_assert_max_num_queries):
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        assert client.get(f"/residents/{family['an'].pk}/").status_code == 200
