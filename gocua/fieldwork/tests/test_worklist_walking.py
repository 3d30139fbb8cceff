"""Every worklist comes in walking order (hamlet, street, house number, naturally), and
residents who belong to no household are listed under their hamlet."""

import pytest
from django.urls import reverse

from gocua.campaigns.tests.factories import make_household
from gocua.fieldwork.selectors import worklist_households
from gocua.geo.models import AdminUnit
from gocua.lib.text import key

# Kept out of address order on purpose: ids and text order must not decide.
KP1 = ["Số 40", "12/3 Lê Lợi", "Số 4", "Tổ 5", "Số 39", "4 Lê Lợi", "4A", "12/3A Lê Lợi"]
KP1_WALKED = ["Số 4", "4A", "Số 39", "Số 40", "4 Lê Lợi", "12/3 Lê Lợi", "12/3A Lê Lợi", "Tổ 5"]


@pytest.fixture
def village(tree, resident_factory):
    """Khu phố 1 and 2 of Xã A, plus a "Khu phố 10" whose code sorts first."""
    kp10 = AdminUnit.objects.create(
        edition=2023,
        code="25456-00",
        name="Khu phố 10",
        level="hamlet",
        parent=tree.xa_a,
        path=f"{tree.xa_a.path}25456-00/",
        depth=tree.xa_a.depth + 1,
        province_code="72",
        name_key=key("Khu phố 10"),
        kind="Khu phố",
    )
    for unit, addresses in ((kp10, ["Số 2"]), (tree.kp2, ["Số 1"]), (tree.kp1, KP1)):
        for address in addresses:
            home = make_household(unit, address=address)
            resident_factory(unit, household=home, name=f"Chủ hộ {address}")
    resident_factory(tree.kp1, name="Người Chưa Có Hộ")
    return kp10


def addresses(rows):
    return [(row["hamlet"], row["address"]) for row in rows]


WALKED = [
    *[("Khu phố 1", a) for a in KP1_WALKED],
    ("Khu phố 1", "Chưa gắn hộ"),
    ("Khu phố 2", "Số 1"),
    ("Khu phố 10", "Số 2"),
]


def test_the_web_worklist_walks_hamlets_streets_and_numbers_in_natural_order(
    client, bob, team_a, village
):
    client.force_login(bob)
    response = client.get(reverse("fieldwork:worklist"), {"team": team_a.pk})
    rows = response.context["households"]
    assert addresses(rows) == WALKED
    loose = rows[len(KP1_WALKED)]
    assert loose["id"] is None and [r["name"] for r in loose["residents"]] == ["Người Chưa Có Hộ"]
    body = response.content.decode()
    assert "Người Chưa Có Hộ" in body and "Chưa gắn hộ" in body


def test_the_print_out_lists_residents_without_a_household_under_their_hamlet(
    client, bob, team_a, village
):
    client.force_login(bob)
    response = client.get(reverse("fieldwork:worklist_print"), {"team": team_a.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Chủ hộ Số 4") < body.index("Chủ hộ Số 39") < body.index("Chủ hộ Số 40")
    assert body.index("Chủ hộ Tổ 5") < body.index("Người Chưa Có Hộ") < body.index("Chủ hộ Số 1")


def test_the_field_api_worklist_walks_the_same_order(client, vy, campaign, village, token_for):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(vy)}"}
    body = client.get("/api/v1/worklist", **headers).json()
    # Khu phố 1 is Vy's; a visit is recorded for a household, so the API lists households.
    assert [h["address"] for h in body["households"]] == KP1_WALKED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 9, 20])
def test_pages_of_any_size_put_together_give_the_whole_walk(bob, team_a, village, size):
    pages, offset = [], 0
    while page := worklist_households(
        bob, offset=offset, limit=size, without_household=True, campaign=team_a.campaign
    ):
        assert len(page) <= size
        pages += page
        offset += size
    assert addresses(pages) == WALKED


def test_a_volunteer_sees_the_residents_without_household_of_their_hamlets_only(
    client, vy, campaign, village, tree, resident_factory
):
    resident_factory(tree.kp2, name="Người Khu Phố Hai")
    client.force_login(vy)
    body = client.get(reverse("fieldwork:worklist")).content.decode()
    assert "Người Chưa Có Hộ" in body and "Người Khu Phố Hai" not in body
