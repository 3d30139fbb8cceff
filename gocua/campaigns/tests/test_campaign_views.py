import datetime as dt

import pytest
from django.urls import reverse

from gocua.accounts.models import AuditEntry
from gocua.campaigns.models import Campaign, UnitTarget


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_it_shows_the_hub_with_the_current_plan(as_user, bob, campaign):
    response = as_user(bob).get(reverse("campaigns:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert campaign.name in body
    assert reverse("fieldwork:worklist") in body
    assert reverse("campaigns:create") not in body  # only province admins plan


def test_it_shows_viewers_no_personal_pages(as_user, olivia, campaign):
    body = as_user(olivia).get(reverse("campaigns:list")).content.decode()
    assert reverse("fieldwork:worklist") not in body
    assert reverse("fieldwork:home_support") not in body


def test_it_asks_anonymous_users_to_log_in(client):
    response = client.get(reverse("campaigns:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_creates_a_campaign_for_a_province_admin(as_user, alice, tree):
    response = as_user(alice).post(
        reverse("campaigns:create"),
        {
            "name": "Cao điểm 60 ngày",
            "start_date": "2026-10-01",
            "window_days": "60",
            "deadline": "",
            "min_age": "14",
            "target_registration": "98",
            "target_activation": "65,5",
            "target_usage": "40",
            "district_team_police": "10",
            "district_team_youth": "10",
            "commune_team_police": "2",
            "commune_team_youth": "10",
            "make_current": "on",
        },
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert campaign.is_current and campaign.deadline == dt.date(2026, 12, 31)
    assert float(campaign.target_activation) == pytest.approx(0.655)
    assert AuditEntry.objects.filter(action="create", object_type="campaign").exists()


def test_it_shows_form_errors_with_messages(as_user, alice, tree):
    response = as_user(alice).post(
        reverse("campaigns:create"),
        {
            "name": "",
            "start_date": "2026-10-01",
            "window_days": "60",
            "deadline": "2026-01-01",
            "min_age": "14",
            "target_registration": "120",
            "target_activation": "65",
            "target_usage": "40",
            "district_team_police": "10",
            "district_team_youth": "10",
            "commune_team_police": "2",
            "commune_team_youth": "10",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Campaign.objects.exists()


def test_it_refuses_plan_pages_to_unit_managers(as_user, bob, campaign):
    client = as_user(bob)
    assert client.get(reverse("campaigns:create")).status_code == 404
    assert client.post(reverse("campaigns:detail", args=[campaign.pk]), {}).status_code == 404
    assert client.post(reverse("campaigns:current", args=[campaign.pk])).status_code == 404


def test_it_edits_the_plan_and_shows_the_refusal(as_user, alice, campaign):
    client = as_user(alice)
    url = reverse("campaigns:detail", args=[campaign.pk])
    data = {
        "name": campaign.name,
        "start_date": campaign.start_date.isoformat(),
        "window_days": "45",
        "deadline": campaign.deadline.isoformat(),
        "min_age": "15",
        "target_registration": "100",
        "target_activation": "70",
        "target_usage": "50",
        "district_team_police": "10",
        "district_team_youth": "10",
        "commune_team_police": "3",
        "commune_team_youth": "9",
    }
    assert client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.window_days, campaign.min_age, campaign.commune_team_police) == (45, 15, 3)
    data["deadline"] = (campaign.start_date - dt.timedelta(days=1)).isoformat()
    response = client.post(url, data)
    assert response.status_code == 200
    assert "deadline" in response.context["form"].errors


def test_it_sets_and_removes_a_unit_target(as_user, alice, campaign, tree):
    client = as_user(alice)
    client.post(
        reverse("campaigns:target_add", args=[campaign.pk]),
        {"unit": tree.xa_a.pk, "metric": "activation", "value": "60"},
    )
    target = UnitTarget.objects.get()
    assert float(target.value) == pytest.approx(0.6)
    client.post(reverse("campaigns:target_remove", args=[campaign.pk, target.pk]))
    assert not UnitTarget.objects.exists()


def test_it_renders_the_plan_page_in_bounded_queries(
    as_user, alice, campaign, django_assert_max_num_queries
):
    client = as_user(alice)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert response.status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("campaigns:list")).status_code == 200
