import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gocua.fieldwork.models import FollowUp
from gocua.fieldwork.tests.helpers import street, visit_record, yesterday_at


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def not_home(member, households, *, hour=9):
    for h in households:
        resident = h.residents.first()
        visit_record(
            member=member,
            household=h,
            at=yesterday_at(hour),
            outcomes=[(resident.pk, "not_home", "")],
        )


def test_it_lists_a_volunteers_follow_ups_due_today(as_user, vy, member_vy, tree, resident_factory):
    not_home(member_vy, street(tree.kp1, resident_factory, 2))
    response = as_user(vy).get(reverse("fieldwork:follow_ups"))
    assert response.status_code == 200
    assert response.context["counts"] == {"today": 2, "overdue": 0, "upcoming": 0}
    assert "001 Nguyễn Trãi" in response.content.decode()


def test_it_lists_overdue_for_the_unit_and_per_member(
    as_user, bob, member_vy, tree, resident_factory
):
    not_home(member_vy, street(tree.kp1, resident_factory, 1))
    FollowUp.objects.update(due_date=timezone.localdate() - dt.timedelta(days=2))
    client = as_user(bob)
    response = client.get(reverse("fieldwork:follow_ups"), {"due": "overdue"})
    assert len(response.context["page"].object_list) == 1
    response = client.get(
        reverse("fieldwork:follow_ups"), {"due": "overdue", "member": member_vy.pk}
    )
    assert len(response.context["page"].object_list) == 1


def test_it_marks_done_and_reschedules(as_user, vy, member_vy, tree, resident_factory):
    not_home(member_vy, street(tree.kp1, resident_factory, 2))
    first, second = FollowUp.objects.order_by("id")
    client = as_user(vy)
    assert client.post(reverse("fieldwork:follow_up_done", args=[first.pk])).status_code == 302
    first.refresh_from_db()
    assert first.status == "done"
    new_day = timezone.localdate() + dt.timedelta(days=2)
    client.post(
        reverse("fieldwork:follow_up_reschedule", args=[second.pk]),
        {"due_date": new_day.isoformat(), "time_of_day": "evening"},
    )
    second.refresh_from_db()
    assert second.status == "rescheduled"
    assert FollowUp.objects.get(status="open").due_date == new_day


def test_it_shows_the_refusal_of_a_date_outside_the_campaign(
    as_user, vy, member_vy, tree, resident_factory, campaign
):
    not_home(member_vy, street(tree.kp1, resident_factory, 1))
    follow_up = FollowUp.objects.get()
    response = as_user(vy).post(
        reverse("fieldwork:follow_up_reschedule", args=[follow_up.pk]),
        {
            "due_date": (campaign.deadline + dt.timedelta(days=5)).isoformat(),
            "time_of_day": "morning",
        },
        follow=True,
    )
    assert f"{campaign.deadline:%d/%m/%Y}" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_it_keeps_charlie_and_olivia_out(
    as_user, charlie, olivia, member_vy, tree, resident_factory
):
    not_home(member_vy, street(tree.kp1, resident_factory, 1))
    follow_up = FollowUp.objects.get()
    client = as_user(charlie)
    assert client.get(reverse("fieldwork:follow_ups")).context["counts"]["today"] == 0
    assert client.post(reverse("fieldwork:follow_up_done", args=[follow_up.pk])).status_code == 404
    assert as_user(olivia).get(reverse("fieldwork:follow_ups")).status_code == 404


@pytest.mark.parametrize("n", [2, 20])
def test_it_lists_follow_ups_in_bounded_queries(
    n, as_user, bob, member_vy, tree, resident_factory, django_assert_max_num_queries
):
    not_home(member_vy, street(tree.kp1, resident_factory, n))
    client = as_user(bob)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("fieldwork:follow_ups"))
    assert response.context["counts"]["today"] == n


def test_it_shows_how_many_days_late(as_user, bob, member_vy, tree, resident_factory):
    not_home(member_vy, street(tree.kp1, resident_factory, 1))
    FollowUp.objects.update(due_date=timezone.localdate() - dt.timedelta(days=3))
    body = as_user(bob).get(reverse("fieldwork:follow_ups"), {"due": "overdue"}).content.decode()
    assert "trễ 3 ngày" in body
