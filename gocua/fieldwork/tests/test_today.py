"""The commune officer's day (/fieldwork/today/): what is due in their unit, and nothing of
another unit's."""

import datetime as dt

import pytest
from django.utils import timezone

from gocua.accounts.models import ApiToken
from gocua.accounts.services import token_create
from gocua.campaigns.models import Member
from gocua.fieldwork import selectors
from gocua.fieldwork.models import FollowUp, HomeSupportRequest, Visit
from gocua.imports.models import ImportJob
from gocua.imports.services import imports_finished_lately


@pytest.fixture
def day(tree, bob, charlie, vy, campaign, team_a, household_factory, resident_factory):
    now = timezone.now()
    today = timezone.localdate()
    d = type("Day", (), {})()
    d.seen = household_factory(tree.kp1, address="1 Hẻm 3")
    d.unseen = household_factory(tree.kp1, address="2 Hẻm 3")
    d.unseen2 = household_factory(tree.kp2, address="3 Đường Số 2")
    d.elsewhere = household_factory(tree.b_kp1, address="4 Xã B")
    d.old = resident_factory(tree.kp1, household=d.unseen, born=dt.date(1940, 1, 1))
    Visit.objects.create(household=d.seen, at=now)
    Visit.objects.create(household=d.elsewhere, at=now)
    d.due = FollowUp.objects.create(
        household=d.seen, due_date=today, time_of_day="morning", reason="hẹn sáng"
    )
    d.late = FollowUp.objects.create(
        household=d.unseen, due_date=today - dt.timedelta(days=2), time_of_day="evening"
    )
    FollowUp.objects.create(
        household=d.unseen, due_date=today + dt.timedelta(days=1), time_of_day="evening"
    )
    FollowUp.objects.create(household=d.elsewhere, due_date=today, time_of_day="morning")
    d.support = HomeSupportRequest.objects.create(
        resident=d.old, status="scheduled", requested_at=now, scheduled_for=today
    )
    HomeSupportRequest.objects.create(resident=d.old, status="requested", requested_at=now)
    # Vy's phone last synced three days ago; Hà's yesterday; Long has no account.
    token_create(user=vy, campaign_deadline=None)
    ApiToken.objects.filter(user=vy).update(last_used_at=now - dt.timedelta(days=3))
    from conftest import _user

    ha = _user("ha", "field_member", tree.xa_a)
    Member.objects.create(team=team_a, full_name="Hà", affiliation="youth_union", user=ha)
    token_create(user=ha, campaign_deadline=None)
    ApiToken.objects.filter(user=ha).update(last_used_at=now - dt.timedelta(days=1))
    Member.objects.create(team=team_a, full_name="Long", affiliation="police")
    d.job = ImportJob.objects.create(
        kind="citizens", file_name="p1.csv", user=bob, status="done", finished_at=now
    )
    ImportJob.objects.create(
        kind="citizens",
        file_name="old.csv",
        user=bob,
        status="done",
        finished_at=now - dt.timedelta(days=5),
    )
    ImportJob.objects.create(
        kind="citizens", file_name="xa-b.csv", user=charlie, status="done", finished_at=now
    )
    return d


def test_it_lists_the_day_of_the_officer_s_unit(day, bob, tree, vy):
    result = selectors.officer_day(bob)
    assert [f.pk for f in result["due_today"]] == [day.due.pk]
    assert [f.pk for f in result["overdue"]] == [day.late.pk]
    assert (result["due_today_count"], result["overdue_count"]) == (1, 1)
    assert [r.pk for r in result["home_support"]] == [day.support.pk]
    assert [m.user for m in result["not_synced"]] == [vy]
    assert [j.pk for j in imports_finished_lately(bob)] == [day.job.pk]
    hamlets = {h["name"]: (h["never"], h["households"]) for h in result["hamlets"]}
    assert hamlets == {"Khu phố 1": (1, 2), "Khu phố 2": (1, 1)}


def test_another_commune_s_officer_sees_none_of_it(day, charlie):
    result = selectors.officer_day(charlie)
    assert result["due_today_count"] == 1  # Xã B's own
    assert result["overdue"] == [] and result["home_support"] == []
    assert result["not_synced"] == []
    assert [j.file_name for j in imports_finished_lately(charlie)] == ["xa-b.csv"]
    assert result["hamlets"] == [
        {
            "id": day.elsewhere.unit_id,
            "name": "Khu phố 1",
            "path": day.elsewhere.unit.path,
            "households": 1,
            "never": 0,
        }
    ]


def test_hamlets_are_left_to_dashboards_above_a_commune(day, dan):
    assert selectors.hamlets_never_visited(dan) is None


def test_the_page_is_a_unit_manager_s_landing(client, day, bob, vy, olivia):
    response = client.post("/accounts/login/", {"username": "bob", "password": bob.raw_password})
    assert response["Location"] == "/fieldwork/today/"
    page = client.get("/fieldwork/today/").content.decode()
    assert "1 Hẻm 3" in page and "2 Hẻm 3" in page and "4 Xã B" not in page
    for user in (vy, olivia):
        client.force_login(user)
        assert client.get("/fieldwork/today/").status_code == 404
