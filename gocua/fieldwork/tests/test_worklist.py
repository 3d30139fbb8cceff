import datetime as dt

import pytest
from django.utils import timezone

from gocua.campaigns.tests.factories import at_local
from gocua.fieldwork.selectors import worklist_households
from gocua.fieldwork.tests.helpers import visit_record


@pytest.fixture
def street(tree, campaign, household_factory, resident_factory):
    """KP1: three households with work, one without; KP2: one household."""
    b = household_factory(tree.kp1, address="B 20 Trần Phú")
    a = household_factory(tree.kp1, address="A 10 Trần Phú")
    done = household_factory(tree.kp1, address="C 30 Trần Phú")
    kp2 = household_factory(tree.kp2, address="1 Lê Lợi")
    people = {
        "ong": resident_factory(
            tree.kp1,
            name="Ông Tư",
            household=a,
            born=dt.date(1940, 1, 1),
            elderly=True,
            no_smartphone=True,
        ),
        "con": resident_factory(tree.kp1, name="Con Tư", household=a, stage="activated"),
        "chau": resident_factory(
            tree.kp1,
            name="Cháu Tư",
            household=a,
            born=timezone.localdate() - dt.timedelta(days=365 * 10),
        ),
        "ba": resident_factory(tree.kp1, name="Bà Năm", household=b, stage="failed", sex="F"),
        "mat": resident_factory(tree.kp1, name="Đã Mất", household=b, deceased=True),
        "di": resident_factory(tree.kp1, name="Chuyển Đi", household=b, moved_out=True),
        "xong": resident_factory(tree.kp1, name="Xong Rồi", household=done, stage="used"),
        "le": resident_factory(
            tree.kp2, name="Lê Văn Sáu", household=kp2, stage="approved", away=True
        ),
    }
    return {"a": a, "b": b, "done": done, "kp2": kp2, **people}


def test_it_lists_households_with_work_ordered_by_hamlet_then_address(bob, street):
    rows = worklist_households(bob)
    assert [h["address"] for h in rows] == ["A 10 Trần Phú", "B 20 Trần Phú", "1 Lê Lợi"]
    a = rows[0]
    assert a["hamlet"] == "Khu phố 1"
    names = [r["name"] for r in a["residents"]]
    assert names == ["Ông Tư", "Con Tư"]  # the child is not eligible
    ong = a["residents"][0]
    assert ong["gap"] == "not_registered" and ong["eid_stage"] == "none"
    assert ong["flags"] == ["elderly", "no_smartphone"]
    assert ong["national_id_masked"].startswith("072") and "*" in ong["national_id_masked"]
    assert ong["age"] >= 80
    assert a["residents"][1]["gap"] == "not_used"
    assert [r["name"] for r in rows[1]["residents"]] == ["Bà Năm"]  # dead and moved left out
    assert rows[1]["residents"][0]["gap"] == "failed"
    assert rows[2]["residents"][0]["gap"] == "not_activated"


def test_it_filters_by_gap_flag_and_hamlet(bob, street, tree):
    assert [h["address"] for h in worklist_households(bob, gap="failed")] == ["B 20 Trần Phú"]
    only_elderly = worklist_households(bob, flag="elderly")
    assert [r["name"] for h in only_elderly for r in h["residents"]] == ["Ông Tư"]
    assert [h["address"] for h in worklist_households(bob, hamlets=[tree.kp2])] == ["1 Lê Lợi"]
    assert [h["id"] for h in worklist_households(bob, gap="not_used", flag="away")] == []
    with pytest.raises(ValueError):
        worklist_households(bob, gap="nope")


def test_it_gives_a_member_only_their_hamlets(vy, member_vy, street):
    for who in (vy, member_vy):
        assert [h["address"] for h in worklist_households(who)] == [
            "A 10 Trần Phú",
            "B 20 Trần Phú",
        ]


def test_it_gives_charlie_and_olivia_nothing_of_xa_a(charlie, olivia, street):
    assert worklist_households(charlie) == []
    assert worklist_households(olivia) == []


def test_it_shows_the_last_outcome_and_open_claim(bob, member_vy, street):
    day = timezone.localdate() - dt.timedelta(days=1)
    visit_record(
        member=member_vy,
        household=street["a"],
        at=at_local(day, 8),
        outcomes=[(street["ong"].pk, "not_home", "")],
    )
    visit_record(
        member=member_vy,
        household=street["a"],
        at=at_local(day, 18),
        outcomes=[(street["ong"].pk, "helped_register", "")],
    )
    ong = worklist_households(bob)[0]["residents"][0]
    assert ong["last_outcome"] == "helped_register"
    assert ong["open_claim"] == "registered"
    assert ong["eid_stage"] == "none"  # the claim never overwrites the confirmed stage


def test_it_pages_through_households(bob, street):
    assert [h["address"] for h in worklist_households(bob, offset=1, limit=1)] == ["B 20 Trần Phú"]


@pytest.mark.parametrize("n", [2, 20])
def test_it_costs_the_same_queries_for_2_or_20_households(
    n, bob, vy, campaign, tree, household_factory, resident_factory, django_assert_num_queries
):
    for i in range(n):
        h = household_factory(tree.kp1, address=f"{i:03d} Nguyễn Trãi")
        resident_factory(tree.kp1, household=h)
        resident_factory(tree.kp1, household=h, stage="registered")
    with django_assert_num_queries(3):
        assert len(worklist_households(bob, campaign=campaign)) == n
    with django_assert_num_queries(4):  # + the current campaign
        assert len(worklist_households(vy)) == n
