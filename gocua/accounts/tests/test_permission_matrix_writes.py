"""The permission matrix for writes: every route, POSTed by every role with the ids of objects
of a unit outside the user's jurisdiction (in the URL and in every field of the body, form or
JSON), must change nothing in the database and never answer 5xx; the import page is driven
with files that name the foreign unit, its people and its households.

Objects are made in every unit of the world of `test_permission_matrix` (a team, a member with
an account, a follow-up, a home-support request, an outreach event, a training with a staff
attendance, a reported move, a unit target), so that each route's parameters and fields can be
filled by name. Routes added later are covered without editing this file: an unknown
parameter gets an object that does not exist.
"""

import datetime as dt
import hashlib
import json
import uuid

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from gocua.accounts.models import ApiToken, AuditEntry, User
from gocua.accounts.services import token_create
from gocua.accounts.tests.test_permission_matrix import RELATIONS, World, _placeholder, _routes
from gocua.campaigns.models import Campaign, Member, Team, UnitTarget
from gocua.fieldwork.models import (
    FollowUp,
    HomeSupportRequest,
    OutreachEvent,
    TrainingAttendance,
    TrainingSession,
    Visit,
    VisitOutcome,
)
from gocua.imports.models import ImportJob
from gocua.imports.tests.conftest import EN

# Rows that change on any request whatever it asks (sessions, throttling, token use), or that
# record the request itself (the audit log, an import's job row): not "the data".
UNWATCHED = {
    "sessions.session",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "axes.accessattemptexpiration",
    ApiToken._meta.label_lower,
    AuditEntry._meta.label_lower,
    ImportJob._meta.label_lower,
    "imports.importreject",
    "django_tasks_db.dbtaskresult",
    "worker.workerbeat",
    "worker.schedule",
}
# Fields a login touches on any account.
TOUCHED_FIELDS = {"last_login"}
# Routes whose POST is about the caller's own session, not about any object.
SESSION_ROUTES = {"accounts:login", "accounts:logout", "set_language", "api:token_obtain"}


@pytest.fixture
def world(tree, alice, dan, bob, vy):
    return Objects(World(tree, alice, dan, bob, vy))


class Objects:
    """Writable objects in every unit of the World."""

    def __init__(self, world: World):
        self.world = world
        tree = world.tree
        today = timezone.localdate()
        self.campaign = {
            tree.province.pk: Campaign.objects.get(is_current=True),
            world.province2.pk: Campaign.objects.create(
                name="Chiến dịch tỉnh bạn",
                province=world.province2,
                start_date=today,
                deadline=today + dt.timedelta(days=90),
            ),
        }
        self.team, self.member, self.user = {}, {}, {}
        self.follow_up, self.home_support, self.outreach = {}, {}, {}
        self.training, self.attendance, self.report, self.target = {}, {}, {}, {}
        for unit_pk, household in world.household.items():
            unit = household.unit
            campaign = self.campaign[
                world.province2.pk if unit.province_code == "70" else tree.province.pk
            ]
            resident = world.resident[unit_pk]
            team_unit = unit if unit.level in ("district", "commune") else unit.parent
            if team_unit is not None and team_unit.level in ("district", "commune"):
                team, _ = Team.objects.get_or_create(
                    campaign=campaign, unit=team_unit, defaults={"name": f"Tổ {team_unit.code}"}
                )
                user = User.objects.create_user(
                    f"m{unit.code}",
                    password="pw-member-2026",
                    role="field_member",
                    unit=team_unit if team_unit.level == "commune" else None,
                )
                member = Member.objects.create(
                    team=team, full_name=f"Công an {unit.code}", affiliation="police", user=user
                )
                self.team[unit_pk], self.member[unit_pk], self.user[unit_pk] = team, member, user
                visit = Visit.objects.create(household=household, member=member, at=timezone.now())
                self.report[unit_pk] = VisitOutcome.objects.create(
                    visit=visit, resident=resident, outcome="moved_away"
                )
            self.follow_up[unit_pk] = FollowUp.objects.create(
                household=household, resident=resident, due_date=today, time_of_day="morning"
            )
            self.home_support[unit_pk] = HomeSupportRequest.objects.create(
                resident=resident, requested_at=timezone.now()
            )
            self.outreach[unit_pk] = OutreachEvent.objects.create(
                unit=unit, kind="market", place=f"Chợ {unit.code}", date=today
            )
            session = TrainingSession.objects.create(
                unit=unit, date=today, topic="process", organiser="Công an tỉnh"
            )
            self.training[unit_pk] = session
            self.attendance[unit_pk] = TrainingAttendance.objects.create(
                session=session, name="Cán bộ xã"
            )
            if unit.level in ("district", "commune"):
                self.target[unit_pk] = UnitTarget.objects.create(
                    campaign=campaign, unit=unit, metric="registration", value="0.9"
                )

    def campaign_of(self, unit):
        province = self.world.province2 if unit.province_code == "70" else self.world.tree.province
        return self.campaign[province.pk]

    def param(self, name: str, param: str, unit) -> object:
        """The value of a route parameter for the objects of `unit` (None: unknown)."""
        pk = unit.pk
        by_route = {
            "campaigns:": {"pk": self.campaign_of(unit).pk, "target_id": self.target.get(pk)},
            "campaigns:team": {"pk": self.team.get(pk)},
            "campaigns:assignments": {"pk": self.team.get(pk)},
            "campaigns:member_edit": {"pk": self.team.get(pk), "member_id": self.member.get(pk)},
            "campaigns:member_remove": {"pk": self.team.get(pk), "member_id": self.member.get(pk)},
            "fieldwork:visit": {"pk": self.world.household[pk]},
            "fieldwork:follow_up": {"pk": self.follow_up[pk]},
            "fieldwork:home_support": {"pk": self.home_support[pk]},
            "fieldwork:to_confirm": {"pk": self.report.get(pk)},
            "fieldwork:outreach": {"pk": self.outreach[pk]},
            "fieldwork:training": {"pk": self.training[pk], "attendance_id": self.attendance[pk]},
            "people:": {"pk": self.world.resident[pk]},
            "api:follow_up": {"follow_up_id": self.follow_up[pk]},
        }
        common = {
            "edition": unit.edition,
            "code": unit.code,
            "unit_code": unit.code,
            "unit_id": pk,
            "resident_id": self.world.resident[pk],
            "household_id": self.world.household[pk],
        }
        value = common.get(param)
        for prefix, params in by_route.items():
            if name.startswith(prefix) and param in params:
                value = params[param]
        return getattr(value, "pk", value)

    def form(self, unit) -> dict:
        """Every field a form of the app may read, filled with the objects of `unit`."""
        pk = unit.pk
        resident, household = self.world.resident[pk], self.world.household[pk]
        member, team = self.member.get(pk), self.team.get(pk)
        hamlet = unit if unit.level == "hamlet" else unit
        today = timezone.localdate().isoformat()
        data = {
            "unit": pk,
            "team": getattr(team, "pk", ""),
            "member": getattr(member, "pk", ""),
            "user": getattr(self.user.get(pk), "pk", ""),
            "hamlet": hamlet.pk,
            "resident": resident.pk,
            "household": household.pk,
            "officers": getattr(member, "pk", ""),
            "full_name": "Người Lạ",
            "name": "Người Lạ",
            "affiliation": "police",
            "phone": "0912000111",
            "is_leader": "on",
            "metric": "registration",
            "value": "95",
            "kind": "market",
            "place": "Chợ",
            "date": today,
            "due_date": today,
            "time_of_day": "morning",
            "topic": "process",
            "organiser": "Công an",
            "note": "ghi chú",
            "reason": "lý do",
            "passed": "on",
            "people_reached": "5",
            "dossiers_collected": "1",
            "activations_helped": "1",
            "client_id": str(uuid.uuid4()),
            "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            f"outcome_{resident.pk}": "helped_install",
            f"note_{resident.pk}": "x",
            "name_of_campaign": "x",
            "start_date": today,
            "deadline": today,
        }
        if member is not None:
            data[f"a_{hamlet.pk}_{member.pk}"] = "on"
            data[f"m_{member.pk}"] = "passed"
        return data

    def json(self, unit) -> dict:
        """Every field of the API's bodies, filled with the objects of `unit`."""
        pk = unit.pk
        resident, household = self.world.resident[pk], self.world.household[pk]
        today = timezone.localdate().isoformat()
        return {
            "visits": [
                {
                    "id": str(uuid.uuid4()),
                    "household": household.pk,
                    "at": timezone.now().isoformat(),
                    "outcomes": [{"resident": resident.pk, "outcome": "helped_install"}],
                }
            ],
            "resident": resident.pk,
            "reason": "lý do",
            "unit": unit.code,
            "edition": unit.edition,
            "kind": "market",
            "place": "Chợ",
            "date": today,
            "team": getattr(self.team.get(pk), "pk", None),
            "due_date": today,
            "time_of_day": "morning",
        }


def _fingerprint() -> dict[str, str]:
    """A digest of every watched table's rows."""
    digests = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in UNWATCHED or model._meta.proxy:
            continue
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in TOUCHED_FIELDS]
        rows = list(model.objects.order_by("pk").values_list(*fields))
        digests[label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def _url(objects, name, params, unit):
    kwargs = {}
    for param, converter in params.items():
        value = objects.param(name, param, unit)
        kwargs[param] = value if value is not None else _placeholder(converter)
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _post(client, url, user, objects, unit):
    if url.startswith("/api/"):
        client.logout()
        token = token_create(user=user, campaign_deadline=None)[1]
        return client.post(
            url,
            data=json.dumps(objects.json(unit)),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    client.force_login(user)
    return client.post(url, objects.form(unit))


@pytest.mark.parametrize(
    "role", ["province_admin", "district_manager", "commune_manager", "field_member", "viewer"]
)
def test_no_write_reaches_a_unit_outside_the_jurisdiction(client, world, role):
    user, relations = world.world.personas[role]
    checked = 0
    for rel in RELATIONS:
        unit = relations[rel]
        if unit is None or rel in ("own", "child"):
            continue
        for name, params in _routes():
            if name in SESSION_ROUTES:
                continue
            url = _url(world, name, params, unit)
            if url is None:
                continue
            before = _fingerprint()
            response = _post(client, url, user, world, unit)
            where = f"{role} POST {rel} {name} {url}"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            after = _fingerprint()
            changed = [label for label in before if before[label] != after[label]]
            assert not changed, f"{where}: {response.status_code}, changed {changed}"
            checked += 1
    assert checked >= 40


def test_its_objects_can_be_written_by_their_own_managers(client, world):
    """The matrix is worth something only if the same POSTs do write for the right person:
    Bob may close his commune's follow-up and record its outreach."""
    user, relations = world.world.personas["commune_manager"]
    unit = relations["own"]
    follow_up = world.follow_up[unit.pk]
    response = _post(client, f"/fieldwork/follow-ups/{follow_up.pk}/done/", user, world, unit)
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "done"
    count = OutreachEvent.objects.count()
    assert _post(client, "/api/v1/outreach", user, world, unit).status_code == 201
    assert OutreachEvent.objects.count() == count + 1


@pytest.mark.parametrize("role", ["province_admin", "district_manager", "commune_manager"])
def test_the_import_page_never_writes_outside_the_jurisdiction(client, world, role, worker_runs):
    user, relations = world.world.personas[role]
    own = relations["own"] if relations["own"].level == "commune" else None
    own_code = own.code if own else "25456"
    client.force_login(user)
    for rel in ("sibling", "parent"):
        unit = relations[rel]
        if unit is None:
            continue
        resident, household = world.world.resident[unit.pk], world.world.household[unit.pk]
        household.code = f"HH{unit.code}"
        household.save(update_fields=["code"])
        rows = [
            # their person, put in my commune
            [
                resident.national_id,
                resident.full_name,
                resident.birth_date.isoformat(),
                "Nữ",
                "0911000222",
                own_code,
                "Khu phố 1",
                "",
                "1 Đường Mới",
            ],
            # a newcomer attached to their household
            [
                "072190009001",
                "Người Mới",
                "1990-01-01",
                "Nữ",
                "",
                own_code,
                "Khu phố 1",
                household.code,
                "",
            ],
            # a newcomer in their unit
            ["072190009002", "Người Mới Hai", "1990-01-01", "Nữ", "", unit.code, "", "", ""],
        ]
        stage_rows = [[resident.national_id, "used", "2", "2026-11-20", "2026-11-21"]]
        files = {
            "citizens": "\n".join(",".join(r) for r in [EN, *rows]),
            "stages": "\n".join(
                ",".join(r)
                for r in [
                    ["national_id", "eid_stage", "eid_level", "stage_at", "last_used_at"],
                    *stage_rows,
                ]
            ),
        }
        for kind, text in files.items():
            for dry_run in (False, True):
                before = _fingerprint()
                upload = SimpleUploadedFile(f"{kind}.csv", text.encode(), "text/csv")
                data = {"kind": kind, "file": upload}
                if dry_run:
                    data["dry_run"] = "on"
                with worker_runs():
                    response = client.post("/imports/", data)
                where = f"{role} import {kind} {rel} dry_run={dry_run}"
                assert response.status_code == 302, where
                after = _fingerprint()
                changed = [label for label in before if before[label] != after[label]]
                assert not changed, f"{where}: changed {changed}"
                job = ImportJob.objects.order_by("-id").first()
                assert (job.inserted, job.updated) == (0, 0), where
                assert job.rejected == len(rows if kind == "citizens" else stage_rows), where
