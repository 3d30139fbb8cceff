import pytest
from django.utils import timezone

from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.campaigns.tests.factories import fill_team
from gocua.fieldwork.models import TrainingAttendance
from gocua.fieldwork.selectors import training_candidates, trainings_for, untrained_by_team
from gocua.fieldwork.services import (
    training_attendance_set,
    training_create,
    training_staff_add,
)


@pytest.fixture
def session(campaign, tree, bob):
    return training_create(
        unit=tree.xa_a,
        date=timezone.localdate(),
        topic="process",
        organiser="Sở Thông tin và Truyền thông",
        actor=bob,
    )


def test_it_records_attendance_and_who_is_not_trained(session, team_a, member_vy, bob, campaign):
    police = fill_team(team_a, police=2, youth=0)
    assert set(training_candidates(session, campaign)) == {member_vy, *police}
    assert training_attendance_set(
        session=session, results={member_vy.pk: True, police[0].pk: False}, actor=bob
    ) == (2, 1)
    training_staff_add(session=session, name="Cán bộ tư pháp xã", passed=True, actor=bob)
    untrained = dict(untrained_by_team(bob, campaign))
    assert {m.full_name for m in untrained[team_a]} == {"police 1", "police 2"}
    # Passing later, or dropping out, updates the same rows.
    training_attendance_set(
        session=session, results={police[0].pk: True, member_vy.pk: None}, actor=bob
    )
    assert TrainingAttendance.objects.filter(member__isnull=False).count() == 1
    untrained = dict(untrained_by_team(bob, campaign))
    assert {m.full_name for m in untrained[team_a]} == {"Lê Thị Vy", "police 2"}
    row = trainings_for(bob).get()
    assert (row.attendees, row.passed) == (2, 2)


def test_it_refuses_members_of_other_units_and_bad_topics(session, campaign, tree, bob, alice):
    from gocua.campaigns.services import team_create

    team_b = team_create(campaign=campaign, unit=tree.xa_b)
    outsider = fill_team(team_b, police=1, youth=0)[0]
    with pytest.raises(OperationRefused):
        training_attendance_set(session=session, results={outsider.pk: True}, actor=alice)
    with pytest.raises(OperationRefused):
        training_create(
            unit=tree.xa_a, date=timezone.localdate(), topic="cooking", organiser="x", actor=bob
        )


def test_it_keeps_charlie_out(session, charlie, campaign, tree):
    with pytest.raises(NotAllowed):
        training_staff_add(session=session, name="X", actor=charlie)
    with pytest.raises(NotAllowed):
        training_create(
            unit=tree.xa_a, date=timezone.localdate(), topic="law", organiser="x", actor=charlie
        )
    assert trainings_for(charlie).count() == 0
