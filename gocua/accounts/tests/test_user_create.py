"""The user_create service."""

import datetime as dt

import pytest

from gocua.accounts.models import AuditEntry, User
from gocua.accounts.services import AccountError
from gocua.campaigns.models import Assignment, Campaign, Member, Team
from gocua.campaigns.services import user_create_assigned

PASSWORD = "cửa-sổ-xanh-2026"


@pytest.fixture
def campaign(tree):
    return Campaign.objects.create(
        name="Cao điểm 60 ngày",
        province=tree.province,
        start_date=dt.date(2026, 10, 1),
        deadline=dt.date(2026, 12, 31),
        is_current=True,
    )


def test_it_creates_a_user_bound_to_a_unit_with_an_argon2_hash(tree, settings):
    settings.PASSWORD_HASHERS = [h for h in settings.PASSWORD_HASHERS if "MD5" not in h]
    user = user_create_assigned(
        username="hoa",
        role="unit_manager",
        unit=tree.xa_a,
        password=PASSWORD,
        full_name="Nguyễn Thị Hoa",
    )
    user.refresh_from_db()
    assert (user.role, user.unit, user.get_full_name()) == (
        "unit_manager",
        tree.xa_a,
        "Nguyễn Thị Hoa",
    )
    assert user.password.startswith("argon2$")
    assert user.check_password(PASSWORD)
    entry = AuditEntry.objects.get(action="create", object_type="user")
    assert (entry.object_id, entry.unit) == (str(user.pk), tree.xa_a)


def test_it_assigns_all_hamlets_to_a_field_member(tree, campaign):
    user = user_create_assigned(
        username="tu", role="field_member", unit=tree.xa_a, password=PASSWORD, hamlets="all"
    )
    team = Team.objects.get(campaign=campaign, unit=tree.xa_a)
    member = Member.objects.get(team=team, user=user)
    assert {a.hamlet for a in member.assignments.all()} == {tree.kp1, tree.kp2}


def test_it_matches_hamlet_names_ignoring_case_spacing_and_diacritics(tree, campaign):
    user = user_create_assigned(
        username="tu", role="field_member", unit=tree.xa_a, password=PASSWORD, hamlets=["khu pho 2"]
    )
    assert [a.hamlet for a in Assignment.objects.filter(member__user=user)] == [tree.kp2]


def test_it_reuses_the_existing_team_of_the_commune(tree, campaign):
    team = Team.objects.create(campaign=campaign, unit=tree.xa_a, name="Tổ đã có")
    user_create_assigned(
        username="tu", role="field_member", unit=tree.xa_a, password=PASSWORD, hamlets="all"
    )
    assert Team.objects.filter(unit=tree.xa_a).get() == team


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "field_member", "unit": "province"}, "belongs to a commune"),
        ({"role": "boss"}, "role must be one of"),
        ({"hamlets": ["Khu phố 9"]}, "no hamlet named 'Khu phố 9'"),
        ({"role": "unit_manager", "hamlets": "all"}, "only for field members"),
        ({"password": "123"}, "password rejected"),
        ({"password": ""}, "password is empty"),
        ({"username": "bob"}, "already exists"),
        ({"username": "  "}, "user name is empty"),
    ],
)
def test_it_refuses_bad_requests_and_writes_nothing(tree, campaign, bob, kwargs, message):
    args = {
        "username": "tu",
        "role": "field_member",
        "unit": tree.xa_a,
        "password": PASSWORD,
        "hamlets": "all",
    }
    args.update(kwargs)
    if args["unit"] == "province":
        args["unit"] = tree.province
    before = User.objects.count()
    with pytest.raises(AccountError, match=message):
        user_create_assigned(**args)
    assert User.objects.count() == before
    assert not Member.objects.exists()
    assert not AuditEntry.objects.exists()


def test_it_stops_when_there_is_no_current_campaign(tree):
    with pytest.raises(AccountError, match="no current campaign"):
        user_create_assigned(
            username="tu", role="field_member", unit=tree.xa_a, password=PASSWORD, hamlets="all"
        )
    assert not User.objects.filter(username="tu").exists()


def test_it_stops_on_a_commune_without_hamlets(tree, campaign):
    with pytest.raises(AccountError, match="has no hamlets yet"):
        user_create_assigned(
            username="tu", role="field_member", unit=tree.xa_c, password=PASSWORD, hamlets="all"
        )
