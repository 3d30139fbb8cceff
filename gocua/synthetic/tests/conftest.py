"""One small synthetic Tây Ninh (2023 units), generated once for the whole package.

Generating takes a couple of seconds, so the province is made once (committed, outside the
per-test transactions) and removed after the package's last test; each test still runs in
its own transaction, so a test that regenerates or re-imports leaves it untouched.
"""

import hashlib
from types import SimpleNamespace

import pytest

PEOPLE = 4000
SEED = 11


@pytest.fixture(scope="package")
def province(django_db_setup, django_db_blocker):
    from django.db import transaction
    from django.utils import timezone

    from gocua.geo.models import AdminUnit
    from gocua.geo.services import units_load
    from gocua.synthetic.services import province_generate

    with django_db_blocker.unblock():
        units_load(province_code="72", edition=2023)
        today = timezone.localdate()
        summary = province_generate(
            province_code="72", edition=2023, people=PEOPLE, seed=SEED, today=today
        )
        unit = AdminUnit.objects.get(edition=2023, code="72")
        yield SimpleNamespace(unit=unit, summary=summary, today=today, seed=SEED, people=PEOPLE)
        with transaction.atomic():
            _remove(unit)


def _remove(unit) -> None:
    """Leave the database as the other packages expect it: empty."""
    from django_tasks_db.models import DBTaskResult

    from gocua.geo.models import AdminUnit
    from gocua.imports.models import ImportJob
    from gocua.reports.models import RollupState
    from gocua.synthetic.services import _purge_province

    _purge_province(unit)
    ImportJob.objects.all().delete()
    RollupState.objects.all().delete()  # as the test database starts: not built
    DBTaskResult.objects.all().delete()
    for level in ("hamlet", "commune", "district", "province"):
        AdminUnit.objects.filter(
            edition=unit.edition, path__startswith=unit.path, level=level
        ).delete()


def digest(province_unit) -> str:
    """A hash of everything the generator wrote for the province, by natural keys (national
    IDs, codes, names, UUIDs), so two runs compare equal whatever ids the database gave."""
    from gocua.campaigns.models import Assignment, Campaign, Member, Team
    from gocua.fieldwork.models import (
        FollowUp,
        HomeSupportRequest,
        OutreachEvent,
        TrainingAttendance,
        TrainingSession,
        Visit,
        VisitOutcome,
    )
    from gocua.geo.models import AdminUnit
    from gocua.people.models import Household, Resident, StageEvent

    inside = {"unit__edition": province_unit.edition, "unit__path__startswith": province_unit.path}
    in_households = {
        "household__unit__edition": province_unit.edition,
        "household__unit__path__startswith": province_unit.path,
    }
    by_resident = {
        "resident__unit__edition": province_unit.edition,
        "resident__unit__path__startswith": province_unit.path,
    }
    member = ("member__team__unit__code", "member__full_name", "member__phone")
    tables = {
        "hamlets": AdminUnit.objects.filter(
            edition=province_unit.edition, path__startswith=province_unit.path, level="hamlet"
        ).values_list(
            "code",
            "name",
            "kind",
            "path",
            "depth",
            "name_key",
            "province_code",
            "lat",
            "lon",
            "parent__code",
        ),
        "households": Household.objects.filter(**inside).values_list(
            "code", "unit__code", "address", "lat", "lon", "province_code"
        ),
        "residents": Resident.objects.filter(**inside).values_list(
            "national_id",
            "full_name",
            "birth_date",
            "birth_year_only",
            "sex",
            "phone",
            "unit__code",
            "household__code",
            "province_code",
            "elderly",
            "disabled",
            "no_smartphone",
            "away",
            "moved_out",
            "deceased",
            "needs_id_card",
            "eid_stage",
            "eid_level",
            "stage_at",
            "last_used_at",
            "updated_at",
        ),
        "events": StageEvent.objects.filter(**by_resident).values_list(
            "resident__national_id",
            "from_stage",
            "to_stage",
            "from_level",
            "to_level",
            "at",
            "source",
        ),
        "visits": Visit.objects.filter(**in_households).values_list(
            "id", "household__code", *member, "at", "received_at", "note", "lat", "lon"
        ),
        "outcomes": VisitOutcome.objects.filter(**by_resident).values_list(
            "visit_id",
            "resident__national_id",
            "outcome",
            "note",
            "claimed_stage",
            "confirmed_at",
        ),
        "follow_ups": FollowUp.objects.filter(**in_households).values_list(
            "household__code",
            "resident__national_id",
            "visit_id",
            *member,
            "due_date",
            "time_of_day",
            "reason",
            "status",
            "done_at",
            "created_at",
        ),
        "home_support": HomeSupportRequest.objects.filter(**by_resident).values_list(
            "resident__national_id",
            "visit_id",
            "reason",
            "status",
            "requested_at",
            "scheduled_for",
            "closed_at",
            "close_reason",
            "officers__full_name",
        ),
        "campaigns": Campaign.objects.filter(province=province_unit).values_list(
            "name",
            "start_date",
            "window_days",
            "deadline",
            "min_age",
            "target_registration",
            "target_activation",
            "target_usage",
            "is_current",
        ),
        "teams": Team.objects.filter(campaign__province=province_unit).values_list(
            "unit__code", "name"
        ),
        "members": Member.objects.filter(team__campaign__province=province_unit).values_list(
            "team__unit__code", "full_name", "phone", "affiliation", "is_leader"
        ),
        "assignments": Assignment.objects.filter(
            member__team__campaign__province=province_unit
        ).values_list(*member, "hamlet__code", "assigned_at"),
        "outreach": OutreachEvent.objects.filter(**inside).values_list(
            "unit__code",
            "team__name",
            "kind",
            "place",
            "date",
            "people_reached",
            "dossiers_collected",
            "activations_helped",
        ),
        "trainings": TrainingSession.objects.filter(**inside).values_list(
            "unit__code", "date", "topic", "organiser", "note"
        ),
        "attendances": TrainingAttendance.objects.filter(
            session__unit__path__startswith=province_unit.path
        ).values_list("session__unit__code", "session__date", "name", "passed", *member),
    }
    sha = hashlib.sha256()
    for name, rows in tables.items():
        sha.update(name.encode())
        for row in sorted(map(repr, rows)):
            sha.update(row.encode())
    return sha.hexdigest()


@pytest.fixture
def province_digest():
    return digest
