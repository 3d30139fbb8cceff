import datetime as dt

import pytest
from django.utils import timezone

from gocua.campaigns import services as campaign_services
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.campaigns.tests.factories import fill_team
from gocua.fieldwork.selectors import home_support_for, police_for_resident
from gocua.fieldwork.services import (
    home_support_cancel,
    home_support_done,
    home_support_request,
    home_support_schedule,
)


@pytest.fixture
def police(team_a):
    return fill_team(team_a, police=3, youth=0)


@pytest.fixture
def request_(tree, resident_factory, bob):
    grandma = resident_factory(
        tree.kp1, name="Bà Bảy", sex="F", born=dt.date(1932, 1, 1), elderly=True
    )
    request, created = home_support_request(resident=grandma, reason="liệt", actor=bob)
    assert created
    return request


def tomorrow():
    return timezone.localdate() + dt.timedelta(days=1)


def test_it_schedules_with_exactly_two_police_then_completes(request_, police, bob):
    home_support_schedule(request=request_, date=tomorrow(), officers=police[:2], actor=bob)
    request_.refresh_from_db()
    assert request_.status == "scheduled" and request_.scheduled_for == tomorrow()
    assert set(request_.officers.all()) == set(police[:2])
    home_support_done(request=request_, actor=bob)
    request_.refresh_from_db()
    assert request_.status == "done" and request_.closed_at


def test_it_refuses_one_three_or_non_police_officers(request_, police, team_a, bob, member_vy):
    for officers in (police[:1], police[:3], [police[0], police[0]], [police[0], member_vy]):
        with pytest.raises(OperationRefused) as exc:
            home_support_schedule(request=request_, date=tomorrow(), officers=officers, actor=bob)
        assert exc.value.field == "officers"


def test_it_refuses_police_of_another_commune(request_, police, campaign, tree, bob):
    team_b = campaign_services.team_create(campaign=campaign, unit=tree.xa_b)
    other = fill_team(team_b, police=1, youth=0)
    with pytest.raises(OperationRefused):
        home_support_schedule(
            request=request_, date=tomorrow(), officers=[police[0], other[0]], actor=bob
        )


def test_it_enforces_the_state_machine(request_, police, bob):
    with pytest.raises(OperationRefused) as exc:
        home_support_done(request=request_, actor=bob)  # not scheduled yet
    assert exc.value.code == "bad_transition"
    with pytest.raises(OperationRefused):
        home_support_cancel(request=request_, reason="", actor=bob)  # a reason is required
    home_support_cancel(request=request_, reason="Gia đình tự đưa đi", actor=bob)
    request_.refresh_from_db()
    assert request_.status == "cancelled" and request_.close_reason == "Gia đình tự đưa đi"
    for action in (
        lambda: home_support_schedule(
            request=request_, date=tomorrow(), officers=police[:2], actor=bob
        ),
        lambda: home_support_done(request=request_, actor=bob),
        lambda: home_support_cancel(request=request_, reason="x", actor=bob),
    ):
        with pytest.raises(OperationRefused):
            action()


def test_it_refuses_a_date_in_the_past_or_outside_the_campaign(request_, police, bob, campaign):
    with pytest.raises(OperationRefused):
        home_support_schedule(
            request=request_,
            date=timezone.localdate() - dt.timedelta(days=1),
            officers=police[:2],
            actor=bob,
        )
    with pytest.raises(OperationRefused) as exc:
        home_support_schedule(
            request=request_,
            date=campaign.deadline + dt.timedelta(days=3),
            officers=police[:2],
            actor=bob,
        )
    assert f"{campaign.start_date:%d/%m/%Y}" in exc.value.message


def test_it_keeps_charlie_out(request_, police, charlie):
    with pytest.raises(NotAllowed):
        home_support_schedule(request=request_, date=tomorrow(), officers=police[:2], actor=charlie)
    assert list(home_support_for(charlie)) == []


def test_it_lists_the_oldest_first_then_the_longest_waiting(
    request_, tree, resident_factory, bob, olivia
):
    older = resident_factory(tree.kp2, name="Cụ Tám", born=dt.date(1925, 6, 1))
    home_support_request(resident=older, actor=bob)
    assert [r.resident.full_name for r in home_support_for(bob)] == ["Cụ Tám", "Bà Bảy"]
    assert list(home_support_for(olivia)) == []


def test_it_offers_police_of_teams_covering_the_resident(request_, police, campaign):
    assert set(police_for_resident(request_.resident, campaign)) == set(police)
