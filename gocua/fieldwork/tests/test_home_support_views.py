import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gocua.campaigns.tests.factories import fill_team
from gocua.fieldwork.models import HomeSupportRequest
from gocua.fieldwork.services import home_support_request


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def requests_for(tree, resident_factory, n):
    out = []
    for i in range(n):
        resident = resident_factory(tree.kp1, name=f"Cụ {i}", born=dt.date(1930 + i, 1, 1))
        out.append(home_support_request(resident=resident)[0])
    return out


def test_it_lists_the_oldest_first(as_user, bob, campaign, tree, resident_factory):
    requests_for(tree, resident_factory, 3)
    response = as_user(bob).get(reverse("fieldwork:home_support"))
    assert response.status_code == 200
    assert [r.resident.full_name for r in response.context["page"]] == ["Cụ 0", "Cụ 1", "Cụ 2"]


def test_it_schedules_completes_and_refuses_a_wrong_crew(
    as_user, bob, team_a, tree, resident_factory
):
    (request,) = requests_for(tree, resident_factory, 1)
    police = fill_team(team_a, police=3, youth=0)
    client = as_user(bob)
    detail = reverse("fieldwork:home_support_detail", args=[request.pk])
    assert client.get(detail).status_code == 200
    schedule = reverse("fieldwork:home_support_schedule", args=[request.pk])
    day = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(schedule, {"date": day, "officers": [police[0].pk]})
    assert response.status_code == 200
    assert "officers" in response.context["schedule_form"].errors
    response = client.post(schedule, {"date": day, "officers": [police[0].pk, police[1].pk]})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "scheduled"
    client.post(reverse("fieldwork:home_support_done", args=[request.pk]), {"note": "Đã thu nhận"})
    request.refresh_from_db()
    assert request.status == "done"


def test_it_requires_a_reason_to_cancel(as_user, bob, campaign, tree, resident_factory):
    (request,) = requests_for(tree, resident_factory, 1)
    client = as_user(bob)
    url = reverse("fieldwork:home_support_cancel", args=[request.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and response.context["cancel_form"].errors
    client.post(url, {"reason": "Gia đình tự đưa ra trụ sở"})
    request.refresh_from_db()
    assert request.status == "cancelled"


def test_it_keeps_others_out(as_user, charlie, vy, olivia, campaign, tree, resident_factory):
    (request,) = requests_for(tree, resident_factory, 1)
    for user in (charlie, vy, olivia):
        client = as_user(user)
        assert (
            client.get(reverse("fieldwork:home_support_detail", args=[request.pk])).status_code
            == 404
        )
    assert (
        as_user(charlie).get(reverse("fieldwork:home_support")).context["page"].paginator.count == 0
    )
    assert HomeSupportRequest.objects.get().status == "requested"


@pytest.mark.parametrize("n", [2, 20])
def test_it_lists_requests_in_bounded_queries(
    n, as_user, bob, team_a, tree, resident_factory, django_assert_max_num_queries
):
    requests = requests_for(tree, resident_factory, n)
    police = fill_team(team_a, police=2, youth=0)
    for r in requests[::2]:
        r.status = "scheduled"
        r.save()
        r.officers.set(police)
    client = as_user(bob)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("fieldwork:home_support"))
    assert len(response.context["page"]) == n
