"""Home support past the campaign's visits per officer per day: a warning the manager must
confirm, never a silent booking; the scheduling page shows each officer's day."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gocua.campaigns import services as campaign_services
from gocua.campaigns.services import OperationRefused
from gocua.campaigns.tests.factories import fill_team
from gocua.fieldwork.models import HomeSupportRequest
from gocua.fieldwork.services import home_support_request, home_support_schedule


@pytest.fixture
def day():
    return timezone.localdate() + dt.timedelta(days=1)


@pytest.fixture
def crew(team_a, campaign):
    campaign_services.campaign_update(campaign=campaign, home_support_per_officer_day=2)
    team_a.campaign.refresh_from_db()
    return fill_team(team_a, police=3, youth=0)


def elderly(tree, resident_factory, n):
    return [
        home_support_request(
            resident=resident_factory(tree.kp1, name=f"Cụ Hai {i}", born=dt.date(1931, 1, 1))
        )[0]
        for i in range(n)
    ]


def test_a_campaign_limits_visits_per_officer_per_day_by_default(campaign):
    assert campaign.home_support_per_officer_day == 8
    with pytest.raises(OperationRefused) as exc:
        campaign_services.campaign_update(campaign=campaign, home_support_per_officer_day=0)
    assert exc.value.field == "home_support_per_officer_day"


def test_past_the_limit_it_warns_naming_the_officer_until_confirmed(
    crew, tree, resident_factory, day, bob
):
    first, second, third = elderly(tree, resident_factory, 3)
    for request in (first, second):
        home_support_schedule(request=request, date=day, officers=crew[:2], actor=bob)
    with pytest.raises(OperationRefused) as exc:
        home_support_schedule(request=third, date=day, officers=crew[1:3], actor=bob)
    assert exc.value.code == "over_limit" and crew[1].full_name in exc.value.message
    assert "2" in exc.value.message
    third.refresh_from_db()
    assert third.status == HomeSupportRequest.Status.REQUESTED
    # Another pair that day, or the same pair another day, is fine.
    home_support_schedule(
        request=third, date=day + dt.timedelta(days=1), officers=crew[:2], actor=bob
    )
    # Rescheduling a request does not count itself.
    home_support_schedule(request=first, date=day, officers=crew[:2], actor=bob)
    # The manager saw the warning and confirms.
    home_support_schedule(request=third, date=day, officers=crew[:2], over_limit_ok=True)
    third.refresh_from_db()
    assert third.status == HomeSupportRequest.Status.SCHEDULED and third.scheduled_for == day


def test_the_page_shows_the_officers_day_and_asks_to_confirm(
    client, crew, tree, resident_factory, day, bob
):
    first, second, third = elderly(tree, resident_factory, 3)
    for request in (first, second):
        home_support_schedule(request=request, date=day, officers=crew[:2], actor=bob)
    client.force_login(bob)
    schedule = reverse("fieldwork:home_support_schedule", args=[third.pk])
    data = {"date": day.isoformat(), "officers": [crew[0].pk, crew[2].pk]}
    shown = client.post(schedule, {**data, "show_day": "1"})
    assert shown.status_code == 200
    by_name = {d["member"].full_name: d for d in shown.context["officer_day"]}
    assert by_name[crew[0].full_name]["count"] == 2 and by_name[crew[0].full_name]["full"]
    assert by_name[crew[2].full_name]["count"] == 0
    assert "Cụ Hai 0" in shown.content.decode()
    third.refresh_from_db()
    assert third.status == HomeSupportRequest.Status.REQUESTED  # looking saves nothing
    warned = client.post(schedule, data)
    assert warned.status_code == 200
    assert crew[0].full_name in " ".join(warned.context["schedule_form"].errors["over_limit_ok"])
    third.refresh_from_db()
    assert third.status == HomeSupportRequest.Status.REQUESTED
    assert client.post(schedule, {**data, "over_limit_ok": "on"}).status_code == 302
    third.refresh_from_db()
    assert third.status == HomeSupportRequest.Status.SCHEDULED


def test_the_campaign_form_sets_the_limit(client, campaign, alice):
    client.force_login(alice)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert "home_support_per_officer_day" in page.context["form"].fields
