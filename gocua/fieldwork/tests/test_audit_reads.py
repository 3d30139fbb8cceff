"""Reads of personal data are audited: who, what, which unit, which residents (by id, never a
national ID) and how many, in one entry per page or API answer, however many residents it
showed. The command line's imports and exports are recorded as `cli:<os user>`."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from gocua.accounts.models import AuditEntry
from gocua.fieldwork.models import FollowUp, HomeSupportRequest, Visit, VisitOutcome
from gocua.lib.ranges import expand


@pytest.fixture
def work(homes, member_vy):
    """A follow-up, a home-support request, a reported move and a field claim in Xã A."""
    today = timezone.localdate()
    FollowUp.objects.create(
        household=homes.h1,
        resident=homes.an,
        member=member_vy,
        due_date=today,
        time_of_day="morning",
    )
    HomeSupportRequest.objects.create(resident=homes.binh, requested_at=timezone.now())
    visit = Visit.objects.create(household=homes.h2, member=member_vy, at=timezone.now())
    VisitOutcome.objects.create(visit=visit, resident=homes.dung, outcome="moved_away")
    VisitOutcome.objects.create(
        visit=visit, resident=homes.dung, outcome="guided_usage", claimed_stage="used"
    )
    return homes


def only_entry(**filters) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(**filters))
    assert len(entries) == 1, entries
    return entries[0]


def shown(entry) -> set[int]:
    assert entry.detail["residents"] == len(expand(entry.detail["ids"]))
    return set(expand(entry.detail["ids"]))


def test_a_search_by_national_id_is_recorded_without_the_number(client, bob, work):
    client.force_login(bob)
    page = client.get("/residents/", {"q": work.an.national_id})
    assert work.an.full_name in page.content.decode()
    entry = only_entry(object_type="resident_list")
    assert (entry.user, entry.action, entry.detail["search"]) == (bob, "view", "national_id")
    assert shown(entry) == {work.an.pk}
    assert work.an.national_id not in str(entry.detail)


def test_the_resident_list_is_one_entry_for_the_whole_page(client, bob, work):
    client.force_login(bob)
    client.get("/residents/")
    entry = only_entry(object_type="resident_list")
    assert entry.detail["search"] == "none" and len(shown(entry)) == 5  # Xã A's five


@pytest.mark.parametrize(
    "url, object_type",
    [
        ("/fieldwork/worklist/?team={team}", "worklist"),
        ("/fieldwork/households/{h1}/visit/", "household"),
        ("/fieldwork/follow-ups/", "follow_ups"),
        ("/fieldwork/home-support/", "home_support"),
        ("/fieldwork/home-support/{hs}/", "home_support"),
        ("/fieldwork/to-confirm/", "status_reports"),
        ("/fieldwork/claims/", "claims"),
    ],
)
def test_each_page_with_residents_records_whom_it_showed(client, bob, work, url, object_type):
    client.force_login(bob)
    url = url.format(
        team=work.h1.unit.parent.teams.get().pk,
        h1=work.h1.pk,
        hs=HomeSupportRequest.objects.get().pk,
    )
    assert client.get(url).status_code == 200
    entry = only_entry(object_type=object_type)
    assert entry.user == bob and entry.action == "view" and shown(entry)


@pytest.mark.parametrize(
    "path, object_type",
    [("/api/v1/follow-ups?mine=false", "follow_ups"), ("/api/v1/home-support", "home_support")],
)
def test_the_apis_lists_are_recorded(client, bob, work, token_for, path, object_type):
    response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token_for(bob)}")
    assert response.status_code == 200 and response.json()["items"]
    entry = only_entry(object_type=object_type)
    assert entry.user == bob and entry.detail["via"] == "api" and shown(entry)


def test_command_line_exports_are_recorded(work, tmp_path, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "quantri")
    call_command("report", "kpi", "--unit", "25456", "--format", "json", stdout=io.StringIO())
    entry = only_entry(object_type="kpi_report")
    assert entry.username == "cli:quantri" and entry.detail["authority"] == "installation"
