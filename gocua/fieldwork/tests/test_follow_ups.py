import datetime as dt

import pytest
from django.utils import timezone

from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.campaigns.tests.factories import at_local
from gocua.fieldwork.models import FollowUp
from gocua.fieldwork.selectors import follow_ups_for
from gocua.fieldwork.services import follow_up_done, follow_up_reschedule
from gocua.fieldwork.tests.helpers import visit_record


@pytest.fixture
def follow_up(member_vy, tree, household_factory, resident_factory):
    household = household_factory(tree.kp1)
    an = resident_factory(tree.kp1, household=household)
    two_days_ago = timezone.localdate() - dt.timedelta(days=2)
    visit_record(
        member=member_vy,
        household=household,
        at=at_local(two_days_ago, 15),
        outcomes=[(an.pk, "not_home", "")],
    )
    return FollowUp.objects.select_related("household__unit", "member").get()


def test_it_lists_overdue_today_and_upcoming(follow_up, vy, bob, charlie, member_vy):
    today = timezone.localdate()
    assert follow_up.due_date == today - dt.timedelta(days=1)
    assert list(follow_ups_for(bob, due="overdue")) == [follow_up]
    assert list(follow_ups_for(vy, due="overdue", member=member_vy)) == [follow_up]
    assert list(follow_ups_for(bob, due="today")) == []
    assert list(follow_ups_for(charlie, due="overdue")) == []
    follow_up.due_date = today
    follow_up.save()
    assert list(follow_ups_for(bob, due="today")) == [follow_up]


def test_it_closes_a_follow_up_by_its_member_or_a_manager(follow_up, vy, charlie):
    with pytest.raises(NotAllowed):
        follow_up_done(follow_up=follow_up, actor=charlie)
    follow_up_done(follow_up=follow_up, actor=vy)
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.done_at
    with pytest.raises(OperationRefused):
        follow_up_done(follow_up=follow_up, actor=vy)


def test_it_reschedules_keeping_the_old_one(follow_up, bob):
    new_day = timezone.localdate() + dt.timedelta(days=2)
    new = follow_up_reschedule(
        follow_up=follow_up, due_date=new_day, time_of_day="morning", actor=bob
    )
    follow_up.refresh_from_db()
    assert follow_up.status == "rescheduled"
    assert new.status == "open" and new.due_date == new_day and new.member_id == follow_up.member_id


def test_it_refuses_a_reschedule_in_the_past_or_after_the_campaign(follow_up, bob, campaign):
    with pytest.raises(OperationRefused):
        follow_up_reschedule(
            follow_up=follow_up,
            time_of_day="morning",
            actor=bob,
            due_date=timezone.localdate() - dt.timedelta(days=1),
        )
    with pytest.raises(OperationRefused) as exc:
        follow_up_reschedule(
            follow_up=follow_up,
            time_of_day="morning",
            actor=bob,
            due_date=campaign.deadline + dt.timedelta(days=1),
        )
    assert exc.value.code == "outside_window"
    assert f"{campaign.deadline:%d/%m/%Y}" in exc.value.message
