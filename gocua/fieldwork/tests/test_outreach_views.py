import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gocua.fieldwork.models import OutreachEvent
from gocua.fieldwork.services import outreach_record


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_it_records_an_event_from_the_form(as_user, bob, team_a, tree):
    client = as_user(bob)
    assert client.get(reverse("fieldwork:outreach_new")).status_code == 200
    response = client.post(
        reverse("fieldwork:outreach_new"),
        {
            "unit": tree.xa_a.pk,
            "team": team_a.pk,
            "kind": "market",
            "place": "Chợ Phường 1",
            "date": timezone.localdate().isoformat(),
            "people_reached": "150",
            "dossiers_collected": "30",
            "activations_helped": "20",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert OutreachEvent.objects.get().place == "Chợ Phường 1"


def test_it_shows_the_window_for_a_date_outside(as_user, bob, campaign, tree):
    response = as_user(bob).post(
        reverse("fieldwork:outreach_new"),
        {
            "unit": tree.xa_a.pk,
            "kind": "school",
            "place": "THCS",
            "date": (campaign.deadline + dt.timedelta(days=1)).isoformat(),
            "people_reached": "10",
            "dossiers_collected": "0",
            "activations_helped": "0",
        },
    )
    assert response.status_code == 200
    assert f"{campaign.deadline:%d/%m/%Y}" in " ".join(response.context["form"].errors["date"])


def test_it_groups_a_months_events_by_day_for_viewers_too(as_user, olivia, campaign, tree):
    today = timezone.localdate()
    outreach_record(unit=tree.xa_a, kind="agency", place="UBND", date=today, people_reached=40)
    outreach_record(unit=tree.xa_b, kind="business", place="KCN", date=today, people_reached=60)
    response = as_user(olivia).get(reverse("fieldwork:outreach"), {"month": f"{today:%Y-%m}"})
    assert response.status_code == 200
    assert response.context["totals"]["people"] == 100
    assert len(response.context["days"]) == 1
    assert as_user(olivia).get(reverse("fieldwork:outreach_new")).status_code == 404


def test_it_hides_other_communes_events(as_user, charlie, campaign, tree):
    event = outreach_record(unit=tree.xa_a, kind="market", place="Chợ", date=timezone.localdate())
    client = as_user(charlie)
    assert client.get(reverse("fieldwork:outreach")).context["totals"]["events"] == 0
    assert client.post(reverse("fieldwork:outreach_delete", args=[event.pk])).status_code == 404


@pytest.mark.parametrize("n", [2, 20])
def test_it_lists_events_in_bounded_queries(
    n, as_user, dan, campaign, tree, django_assert_max_num_queries
):
    for i in range(n):
        outreach_record(
            unit=tree.xa_a,
            kind="market",
            place=f"Chợ {i}",
            date=campaign.start_date + dt.timedelta(days=i % 5),
            people_reached=5,
        )
    client = as_user(dan)
    with django_assert_max_num_queries(8):
        response = client.get(
            reverse("fieldwork:outreach"), {"month": f"{campaign.start_date:%Y-%m}"}
        )
    assert response.status_code == 200
