"""The 'to confirm' list (deaths and moves) and the claims reconciliation list."""

import pytest
from django.urls import reverse

from gocua.fieldwork.models import VisitOutcome
from gocua.fieldwork.tests.helpers import street, visit_record, yesterday_at


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def report(member, households, outcome):
    for h in households:
        r = h.residents.order_by("id").first()
        visit_record(
            member=member, household=h, at=yesterday_at(10), outcomes=[(r.pk, outcome, "")]
        )


def test_it_confirms_a_death_from_the_list(as_user, bob, member_vy, tree, resident_factory):
    report(member_vy, street(tree.kp1, resident_factory, 1), "deceased")
    outcome = VisitOutcome.objects.get()
    client = as_user(bob)
    response = client.get(reverse("fieldwork:to_confirm"))
    assert outcome.resident.full_name in response.content.decode()
    client.post(reverse("fieldwork:to_confirm_confirm", args=[outcome.pk]))
    outcome.resident.refresh_from_db()
    assert outcome.resident.deceased
    assert client.get(reverse("fieldwork:to_confirm")).context["page"].paginator.count == 0


def test_it_dismisses_a_wrong_move(as_user, bob, member_vy, tree, resident_factory):
    report(member_vy, street(tree.kp1, resident_factory, 1), "moved_away")
    outcome = VisitOutcome.objects.get()
    as_user(bob).post(reverse("fieldwork:to_confirm_dismiss", args=[outcome.pk]))
    outcome.resident.refresh_from_db()
    assert not outcome.resident.moved_out


def test_it_keeps_charlie_vy_and_olivia_from_confirming(
    as_user, charlie, vy, olivia, member_vy, tree, resident_factory
):
    report(member_vy, street(tree.kp1, resident_factory, 1), "deceased")
    outcome = VisitOutcome.objects.get()
    for user in (charlie, vy, olivia):
        client = as_user(user)
        assert (
            client.post(reverse("fieldwork:to_confirm_confirm", args=[outcome.pk])).status_code
            == 404
        )
    outcome.resident.refresh_from_db()
    assert not outcome.resident.deceased


def test_it_lists_claims_beside_the_confirmed_stage(
    as_user, bob, member_vy, tree, resident_factory
):
    report(member_vy, street(tree.kp1, resident_factory, 1), "helped_activate")
    body = as_user(bob).get(reverse("fieldwork:claims")).content.decode()
    assert "Đã kích hoạt" in body and "Chưa đăng ký" in body


@pytest.mark.parametrize("n", [2, 20])
def test_it_lists_reports_and_claims_in_bounded_queries(
    n, as_user, bob, member_vy, tree, resident_factory, django_assert_max_num_queries
):
    households = street(tree.kp1, resident_factory, n)
    report(member_vy, households, "moved_away")
    for h in households:
        r = h.residents.order_by("id").last()
        visit_record(
            member=member_vy,
            household=h,
            at=yesterday_at(11),
            outcomes=[(r.pk, "guided_usage", "")],
        )
    client = as_user(bob)
    with django_assert_max_num_queries(8):
        assert len(client.get(reverse("fieldwork:to_confirm")).context["page"]) == n
    with django_assert_max_num_queries(9):  # 8, and the claims that skipped a step
        claims = client.get(reverse("fieldwork:claims")).context
    # Guided to use people the registry shows as not registered: each skipped a step.
    assert len(claims["page"]) == 0 and len(claims["skipped"]) == n
