import pytest
from django.urls import reverse
from django.utils import timezone

from gocua.campaigns.tests.factories import fill_team
from gocua.fieldwork.models import TrainingAttendance, TrainingSession
from gocua.fieldwork.services import training_create


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_it_creates_a_session_and_records_attendance(as_user, bob, team_a, member_vy, tree):
    police = fill_team(team_a, police=2, youth=0)
    client = as_user(bob)
    response = client.post(
        reverse("fieldwork:training_new"),
        {
            "unit": tree.xa_a.pk,
            "date": timezone.localdate().isoformat(),
            "topic": "law",
            "organiser": "Sở Lao động – Thương binh và Xã hội",
        },
    )
    session = TrainingSession.objects.get()
    assert response.status_code == 302
    url = reverse("fieldwork:training", args=[session.pk])
    assert client.get(url).status_code == 200
    client.post(url, {f"m_{member_vy.pk}": "passed", f"m_{police[0].pk}": "attended"})
    assert set(TrainingAttendance.objects.values_list("member_id", "passed")) == {
        (member_vy.pk, True),
        (police[0].pk, False),
    }
    client.post(
        reverse("fieldwork:training_staff_add", args=[session.pk]),
        {"name": "Chủ tịch UBND xã", "passed": "on"},
    )
    body = client.get(reverse("fieldwork:trainings")).content.decode()
    assert "police 1" in body and "police 2" in body  # not yet trained
    assert TrainingAttendance.objects.filter(member__isnull=True, passed=True).count() == 1


def test_it_keeps_others_out(as_user, charlie, vy, olivia, campaign, tree):
    session = training_create(
        unit=tree.xa_a, date=timezone.localdate(), topic="forms", organiser="Sở TT&TT"
    )
    for user in (charlie, vy, olivia):
        assert (
            as_user(user).get(reverse("fieldwork:training", args=[session.pk])).status_code == 404
        )
    assert as_user(vy).get(reverse("fieldwork:trainings")).status_code == 404


@pytest.mark.parametrize("n", [2, 20])
def test_it_lists_sessions_and_the_untrained_in_bounded_queries(
    n, as_user, bob, team_a, tree, django_assert_max_num_queries
):
    fill_team(team_a, police=2, youth=n)
    for _ in range(n):
        training_create(
            unit=tree.xa_a, date=timezone.localdate(), topic="process", organiser="Công an tỉnh"
        )
    session = TrainingSession.objects.first()
    client = as_user(bob)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("fieldwork:trainings")).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("fieldwork:training", args=[session.pk])).status_code == 200
