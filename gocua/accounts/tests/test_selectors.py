"""The jurisdiction selector: who sees which units, residents and households."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from conftest import make_resident
from gocua.accounts import selectors as s
from gocua.accounts.models import User
from gocua.people import records
from gocua.people.models import Household


@pytest.fixture
def people(tree):
    hh1 = Household.objects.create(unit=tree.kp1, address="1 Trần Hưng Đạo", province_code="72")
    hh2 = Household.objects.create(unit=tree.kp2, address="2 Lê Lợi", province_code="72")
    return {
        "kp1": make_resident(tree.kp1, name="Người KP1", household=hh1),
        "kp2": make_resident(tree.kp2, name="Người KP2", household=hh2),
        "xa_a": make_resident(tree.xa_a, name="Người Xã A"),
        "b_kp1": make_resident(tree.b_kp1, name="Người Xã B"),
        "xa_c": make_resident(tree.xa_c, name="Người Tân Biên"),
        "hh1": hh1,
        "hh2": hh2,
    }


def names(qs):
    return sorted(r.full_name for r in qs)


def test_it_scopes_units_to_the_subtree(tree, alice, bob, dan, olivia, vy):
    assert set(s.units_for_user(alice)) == {
        tree.province,
        tree.district,
        tree.district2,
        tree.xa_a,
        tree.xa_b,
        tree.xa_c,
        tree.kp1,
        tree.kp2,
        tree.b_kp1,
    }
    assert set(s.units_for_user(dan)) == {
        tree.district,
        tree.xa_a,
        tree.xa_b,
        tree.kp1,
        tree.kp2,
        tree.b_kp1,
    }
    assert set(s.units_for_user(bob)) == {tree.xa_a, tree.kp1, tree.kp2}
    assert set(s.units_for_user(vy)) == {tree.xa_a, tree.kp1, tree.kp2}
    assert set(s.units_for_user(olivia)) == set(s.units_for_user(alice))


def test_it_does_not_confuse_editions(tree, bob):
    from gocua.geo.models import AdminUnit

    same_path = AdminUnit.objects.create(
        edition=2025,
        code="25456",
        name="Phường Khác",
        level="commune",
        path=tree.xa_a.path,
        depth=1,
        province_code="72",
        name_key="phuongkhac",
    )
    assert same_path not in s.units_for_user(bob)
    assert not s.unit_visible(bob, same_path)
    with pytest.raises(Http404):
        s.unit_for_user_or_404(bob, 2025, "25456")


def test_it_lets_managers_see_residents_of_their_subtree(people, alice, bob, charlie, dan):
    assert names(records.residents_for_user(bob)) == ["Người KP1", "Người KP2", "Người Xã A"]
    assert names(records.residents_for_user(charlie)) == ["Người Xã B"]
    assert names(records.residents_for_user(dan)) == [
        "Người KP1",
        "Người KP2",
        "Người Xã A",
        "Người Xã B",
    ]
    assert len(records.residents_for_user(alice)) == 5


def test_it_limits_field_members_to_assigned_hamlets(people, vy):
    assert names(records.residents_for_user(vy)) == ["Người KP1"]
    assert list(records.households_for_user(vy)) == [people["hh1"]]
    assert records.assigned_hamlet_ids(vy) == [vy.member.assignments.get().hamlet_id]


def test_it_ignores_assignments_of_past_campaigns_and_inactive_members(people, vy):
    vy.member.team.campaign.is_current = False
    vy.member.team.campaign.save(update_fields=["is_current"])
    assert not records.residents_for_user(vy).exists()
    vy.member.team.campaign.is_current = True
    vy.member.team.campaign.save(update_fields=["is_current"])
    vy.member.active = False
    vy.member.save(update_fields=["active"])
    assert not records.residents_for_user(vy).exists()


def test_it_ignores_an_assignment_outside_the_members_commune(people, tree, vy):
    from gocua.campaigns.models import Assignment

    Assignment.objects.create(member=vy.member, hamlet=tree.b_kp1)
    assert names(records.residents_for_user(vy)) == ["Người KP1"]


def test_it_gives_viewers_no_resident(people, olivia):
    assert not records.residents_for_user(olivia).exists()
    assert not records.households_for_user(olivia).exists()
    assert s.units_for_user(olivia).exists()


def test_it_gives_nothing_to_anonymous_inactive_or_unbound_users(people, tree, bob):
    anonymous = AnonymousUser()
    assert not s.units_for_user(anonymous).exists()
    assert not records.residents_for_user(anonymous).exists()
    bob.is_active = False
    assert not s.units_for_user(bob).exists()
    assert not records.residents_for_user(bob).exists()
    unbound = User.objects.create_user("nobody", role="unit_manager", unit=None)
    assert not s.units_for_user(unbound).exists()
    assert not records.residents_for_user(unbound).exists()
    assert s.scope_paths(unbound) == []


def test_it_gives_a_superuser_without_unit_everything(people, tree):
    root = User.objects.create_superuser("root", password="x" * 12)
    assert s.scope_paths(root) is None
    assert records.residents_for_user(root).count() == 5
    assert s.unit_visible(root, tree.xa_c)
    assert s.home_unit(root) == tree.province


def test_it_scopes_a_superuser_bound_to_a_unit(people, tree):
    boss = User.objects.create_superuser("boss", password="x" * 12, unit=tree.xa_b)
    assert names(records.residents_for_user(boss)) == ["Người Xã B"]


def test_it_finds_units_or_raises_404(tree, bob):
    assert s.unit_for_user_or_404(bob, 2023, "25456-01") == tree.kp1
    assert s.unit_for_user_or_404(bob, None, "25456") == tree.xa_a
    for code in ("25459", "703", "72", "nope"):
        with pytest.raises(Http404):
            s.unit_for_user_or_404(bob, 2023, code)


def test_it_finds_residents_or_raises_404(people, bob, charlie, vy):
    assert records.resident_for_user_or_404(bob, people["kp2"].pk) == people["kp2"]
    with pytest.raises(Http404):
        records.resident_for_user_or_404(charlie, people["kp2"].pk)
    with pytest.raises(Http404):
        records.resident_for_user_or_404(vy, people["kp2"].pk)
    with pytest.raises(Http404):
        records.household_for_user_or_404(vy, people["hh2"].pk)
    assert records.household_for_user_or_404(vy, people["hh1"].pk) == people["hh1"]


def test_it_searches_by_name_or_national_id_inside_the_jurisdiction_only(people, bob):
    from gocua.people.selectors import resident_search

    nid = people["kp2"].national_id
    assert names(resident_search(bob, query="kp")) == ["Người KP1", "Người KP2"]
    assert names(resident_search(bob, query=nid)) == ["Người KP2"]
    assert names(resident_search(bob, query=nid[-6:])) == ["Người KP2"]
    assert not resident_search(bob, query=people["b_kp1"].national_id).exists()
    assert not resident_search(bob, query=people["b_kp1"].national_id[3:]).exists()
    assert names(resident_search(bob, query="", unit=people["kp1"].unit)) == ["Người KP1"]


def test_it_tells_capabilities_by_role(alice, bob, vy, olivia):
    assert [s.is_manager(u) for u in (alice, bob, vy, olivia)] == [True, True, False, False]
    assert [s.can_see_residents(u) for u in (alice, bob, vy, olivia)] == [True, True, True, False]
    assert [s.can_read_audit(u) for u in (alice, bob, vy, olivia)] == [True, False, False, False]


def _households_by_condition(user) -> set[int]:
    """The households whose unit is in the scope rendered as SQL, as the visit sync runs it."""
    from django.db import connection

    scope = records.record_units_sql(user)
    if scope is None:
        return set()
    condition, params = scope
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT h."id" FROM "{Household._meta.db_table}" h WHERE h."unit_id" IN ({condition})',
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_sql_scope_condition_gives_the_same_households_as_the_queryset(
    people, tree, alice, bob, charlie, dan, olivia, vy
):
    from gocua.campaigns.models import Assignment

    Household.objects.create(unit=tree.b_kp1, address="3 Nguyễn Huệ", province_code="72")
    Household.objects.create(unit=tree.xa_c, address="4 Hai Bà Trưng", province_code="72")
    # An assignment outside vy's commune grants nothing, in SQL as in the queryset.
    Assignment.objects.create(member=vy.member, hamlet=tree.b_kp1)
    root = User.objects.create_superuser("root", password="x" * 12)
    boss = User.objects.create_superuser("boss", password="x" * 12, unit=tree.xa_b)
    unbound = User.objects.create_user("nobody", role="unit_manager", unit=None)
    for user in (alice, bob, charlie, dan, olivia, vy, root, boss, unbound, AnonymousUser()):
        expected = set(records.households_for_user(user).values_list("id", flat=True))
        assert _households_by_condition(user) == expected, user
    vy.member.active = False
    vy.member.save(update_fields=["active"])
    assert _households_by_condition(vy) == set()
