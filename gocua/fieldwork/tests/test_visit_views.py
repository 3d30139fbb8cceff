import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from gocua.accounts.models import AuditEntry
from gocua.fieldwork.models import FollowUp, Visit, VisitOutcome
from gocua.fieldwork.tests.helpers import street


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def home(tree, resident_factory, campaign):
    household = street(tree.kp1, resident_factory, 1)[0]
    return household, list(household.residents.order_by("id"))


def form_data(residents, member, *, outcome="not_home", at=None, client_id=None, **extra):
    at = at or timezone.localtime() - dt.timedelta(hours=1)
    data = {
        "client_id": str(client_id or "6f1c8a8e-3b7e-4a3f-9f55-0c2f3a9e1d11"),
        "member": member.pk,
        "at": at.strftime("%Y-%m-%dT%H:%M"),
        "note": "",
        f"outcome_{residents[0].pk}": outcome,
        f"note_{residents[0].pk}": "",
        **extra,
    }
    return data


def test_it_records_a_visit_once_even_if_submitted_twice(as_user, vy, member_vy, home):
    household, residents = home
    client = as_user(vy)
    url = reverse("fieldwork:visit", args=[household.pk])
    page = client.get(url)
    assert page.status_code == 200
    client_id = page.context["form"].initial["client_id"]
    data = form_data(residents, member_vy, client_id=client_id)
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 200
    body = again.content.decode()
    assert "Lượt thăm này đã được lưu trước đó" in body and str(household) in body
    assert again.context["already_saved"] and again.context["household"] == household
    # A new form, in case it really is another visit.
    assert str(again.context["form"].initial["client_id"]) != str(client_id)
    assert Visit.objects.count() == 1 and VisitOutcome.objects.count() == 1
    assert FollowUp.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="visit", action="create").count() == 1


def test_back_after_saving_shows_the_form_with_the_saved_id(as_user, vy, member_vy, home):
    """Back fetches the page again (it is not cached): the form carries the id of the visit
    just saved, so saving it again is recognised as the same visit."""
    household, residents = home
    client = as_user(vy)
    url = reverse("fieldwork:visit", args=[household.pk])
    client_id = client.get(url).context["form"].initial["client_id"]
    assert client.post(url, form_data(residents, member_vy, client_id=client_id)).status_code == 302
    back = client.get(url)
    assert str(back.context["form"].initial["client_id"]) == str(client_id)
    resent = client.post(url, form_data(residents, member_vy, client_id=client_id))
    assert resent.context["already_saved"]
    assert Visit.objects.count() == 1
    # Long after the save, the form is a new visit's.
    Visit.objects.update(received_at=timezone.now() - dt.timedelta(hours=2))
    later = client.get(url).context["form"].initial["client_id"]
    assert str(later) != str(client_id)


def test_it_shows_the_window_when_the_date_is_outside(as_user, vy, member_vy, home, campaign):
    household, residents = home
    client = as_user(vy)
    at = timezone.make_aware(
        dt.datetime.combine(campaign.start_date - dt.timedelta(days=3), dt.time(9))
    )
    response = client.post(
        reverse("fieldwork:visit", args=[household.pk]), form_data(residents, member_vy, at=at)
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["at"])
    assert f"{campaign.start_date:%d/%m/%Y}" in errors and f"{campaign.deadline:%d/%m/%Y}" in errors
    assert not Visit.objects.exists()


def test_it_requires_an_outcome_and_a_valid_one(as_user, vy, member_vy, home):
    household, residents = home
    client = as_user(vy)
    url = reverse("fieldwork:visit", args=[household.pk])
    response = client.post(url, form_data(residents, member_vy, outcome=""))
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    response = client.post(url, form_data(residents, member_vy, outcome="teleported"))
    assert response.status_code == 200
    assert not Visit.objects.exists()


def test_it_refuses_a_household_outside_the_volunteers_hamlets(
    as_user, vy, tree, resident_factory, campaign
):
    other = street(tree.kp2, resident_factory, 1)[0]
    assert as_user(vy).get(reverse("fieldwork:visit", args=[other.pk])).status_code == 404


def test_it_lets_a_manager_record_for_an_assigned_member(as_user, bob, member_vy, home):
    household, residents = home
    client = as_user(bob)
    url = reverse("fieldwork:visit", args=[household.pk])
    page = client.get(url)
    assert list(page.context["form"].fields["member"].queryset) == [member_vy]
    response = client.post(url, form_data(residents, member_vy, outcome="helped_register"))
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.recorded_by == bob and visit.member == member_vy


def test_it_keeps_charlie_and_olivia_out(as_user, charlie, olivia, home):
    household, _ = home
    url = reverse("fieldwork:visit", args=[household.pk])
    assert as_user(charlie).get(url).status_code == 404
    assert as_user(olivia).get(url).status_code == 404


def test_it_redirects_only_to_local_next_urls(as_user, vy, member_vy, home):
    household, residents = home
    client = as_user(vy)
    url = reverse("fieldwork:visit", args=[household.pk])
    response = client.post(url, {**form_data(residents, member_vy), "next": "https://evil.test/"})
    assert response["Location"] == reverse("fieldwork:worklist")


def test_it_renders_the_visit_page_in_bounded_queries(
    as_user, bob, member_vy, home, django_assert_max_num_queries
):
    household, _ = home
    client = as_user(bob)
    # 12, plus the session keeping the form's id (see views.visits.RESUBMIT_WINDOW).
    with django_assert_max_num_queries(14):
        assert client.get(reverse("fieldwork:visit", args=[household.pk])).status_code == 200
