"""GET /api/v1/follow-ups, POST /api/v1/follow-ups/{id}/done and /reschedule."""

import datetime as dt

import pytest
from django.utils import timezone

from gocua.fieldwork.models import FollowUp


@pytest.fixture
def due(member_vy, homes):
    """Vy's follow-ups: h1 yesterday (overdue), h2 today, h1 in three days (upcoming)."""
    today = timezone.localdate()

    def make(household, days, **extra):
        return FollowUp.objects.create(
            household=household,
            member=member_vy,
            due_date=today + dt.timedelta(days=days),
            time_of_day="evening",
            reason="Không có nhà",
            **extra,
        )

    return make(homes.h1, -1, resident=homes.an), make(homes.h2, 0), make(homes.h1, 3)


def ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_it_lists_my_follow_ups_due_today_or_overdue_by_default(api, vy, due):
    overdue, today, later = due
    response = api(vy).get("/api/v1/follow-ups")
    assert ids(response) == [overdue.pk, today.pk]
    first = response.json()["items"][0]
    assert first == {
        "id": overdue.pk,
        "household": overdue.household_id,
        "address": "12 Hẻm 3",
        "hamlet": "Khu phố 1",
        "resident": overdue.resident_id,
        "resident_name": "Nguyễn Văn An",
        "member_name": "Lê Thị Vy",
        "due_date": str(overdue.due_date),
        "time_of_day": "evening",
        "reason": "Không có nhà",
        "status": "open",
    }
    assert response.json()["count"] == 2
    assert ids(api(vy).get("/api/v1/follow-ups", due="upcoming")) == [later.pk]
    assert ids(api(vy).get("/api/v1/follow-ups", due="overdue")) == [overdue.pk]
    assert ids(api(vy).get("/api/v1/follow-ups", due="today")) == [today.pk]


def test_it_pages(api, vy, due):
    body = api(vy).get("/api/v1/follow-ups", limit=1, offset=1).json()
    assert (len(body["items"]), body["count"], body["offset"], body["limit"]) == (1, 2, 1, 1)


def test_it_lists_only_my_own_unless_asked(api, vy, vu, due):
    assert ids(api(vu).get("/api/v1/follow-ups")) == []
    assert len(ids(api(vu).get("/api/v1/follow-ups", mine="false"))) == 2


def test_it_shows_charlie_nothing_of_xa_a(api, charlie, due):
    assert ids(api(charlie).get("/api/v1/follow-ups", mine="false")) == []


def test_it_marks_a_follow_up_done(api, vy, due):
    overdue = due[0]
    response = api(vy).post(f"/api/v1/follow-ups/{overdue.pk}/done")
    assert response.status_code == 200 and response.json()["status"] == "done"
    overdue.refresh_from_db()
    assert overdue.status == "done"
    again = api(vy).post(f"/api/v1/follow-ups/{overdue.pk}/done")
    assert again.status_code == 409 and again.json()["detail"]


def test_it_reschedules_a_follow_up(api, vy, due):
    today = due[1]
    day = timezone.localdate() + dt.timedelta(days=2)
    response = api(vy).post(
        f"/api/v1/follow-ups/{today.pk}/reschedule",
        {"due_date": str(day), "time_of_day": "morning"},
    )
    assert response.status_code == 200, response.content
    new = response.json()
    assert (new["due_date"], new["time_of_day"], new["status"]) == (str(day), "morning", "open")
    today.refresh_from_db()
    assert today.status == "rescheduled"


def test_it_refuses_a_day_in_the_past(api, vy, due):
    response = api(vy).post(
        f"/api/v1/follow-ups/{due[1].pk}/reschedule",
        {"due_date": "2020-01-01", "time_of_day": "morning"},
    )
    assert response.status_code == 422 and "due_date" in response.json()["detail"]


def test_it_answers_404_outside_the_jurisdiction(api, charlie, due):
    for path in (f"/api/v1/follow-ups/{due[0].pk}/done", "/api/v1/follow-ups/999999/done"):
        response = api(charlie).post(path)
        assert response.status_code == 404, path


def test_it_answers_403_to_another_member_of_the_hamlet(api, vu, due):
    response = api(vu).post(f"/api/v1/follow-ups/{due[0].pk}/done")
    assert response.status_code == 403


def test_it_lets_the_unit_manager_close_it(api, bob, due):
    assert api(bob).post(f"/api/v1/follow-ups/{due[0].pk}/done").status_code == 200
