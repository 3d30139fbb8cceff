"""`province_generate`: a synthetic province with people, campaign and 60 days of history.

Guarantees:
- atomic: everything (the purge of `replace=True`, the rows, the rebuild of the edition's
  rollups) is one transaction, so an interrupted run leaves the database as it was;
- deterministic: the same seed, edition, province, size and `today` give the same rows (ids
  aside); every draw comes from `random.Random` instances seeded from those values;
- streaming: one commune at a time is built in memory and written with the database's bulk
  path, so memory does not grow with the province (1.2M residents fit in a few hundred MB);
- invariants shared with the app's own writes: hamlets as geo.services.hamlet_get_or_create
  makes them, stage history replayable (see history.py), national IDs and phones valid by
  the import rules (the generated population re-imports with no rejects).
"""

import datetime as dt
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from gocua.campaigns.models import Campaign
from gocua.fieldwork.models import (
    FollowUp,
    HomeSupportRequest,
    OutreachEvent,
    TrainingSession,
    Visit,
    VisitOutcome,
)
from gocua.geo.models import AdminUnit, Level
from gocua.lib import nid as nid_lib
from gocua.lib.bulk import Row
from gocua.lib.text import key
from gocua.people.models import Household, Resident, StageEvent, name_search_of
from gocua.people.walking import walk_key_for
from gocua.reports.rollups import rollup_rebuild
from gocua.synthetic import history, population, teams
from gocua.synthetic.purge import PurgeError, keep_protected, purge
from gocua.synthetic.writer import Clock, IdBlock, Table, bulk_writing, rows_write

WINDOW_DAYS = 60
MAX_PEOPLE = 20_000_000


# One commune built: its KPI tally, its number of residents and its rows by table.
_CommuneBatch = tuple[dict[str, int], int, dict[str, list[Row]]]
_Item = TypeVar("_Item")
_Built = TypeVar("_Built")


class GenerateError(ValueError):
    """The province cannot be generated as asked; the message says what to do."""


@dataclass
class GenerateSummary:
    province: str
    edition: int
    seed: int
    today: dt.date
    residents: int = 0
    households: int = 0
    hamlets: int = 0
    communes: int = 0
    stage_events: int = 0
    visits: int = 0
    visit_outcomes: int = 0
    follow_ups: int = 0
    home_support_requests: int = 0
    teams: int = 0
    members: int = 0
    outreach_events: int = 0
    trainings: int = 0
    training_attendances: int = 0
    replaced: int = 0
    eligible: int = 0
    registration_rate_day0: float = 0.0
    activation_rate_day0: float = 0.0
    registration_rate: float = 0.0
    activation_rate: float = 0.0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _province_units(
    province_code: str, edition: int
) -> tuple[AdminUnit, list[AdminUnit], list[AdminUnit]]:
    code = province_code.strip()
    province = AdminUnit.objects.filter(edition=edition, code=code, level=Level.PROVINCE).first()
    communes: list[AdminUnit] = []
    if province is not None:
        communes = list(
            AdminUnit.objects.filter(
                edition=edition, level=Level.COMMUNE, path__startswith=province.path
            ).order_by("path")
        )
    if province is None or not communes:
        raise GenerateError(
            f"the units of province {code} ({edition} edition) are not loaded: run "
            f"gocua units load --province {code} --edition {edition} first"
        )
    districts = list(
        AdminUnit.objects.filter(
            edition=edition, level=Level.DISTRICT, path__startswith=province.path
        ).order_by("path")
    )
    return province, districts, communes


def residents_in(province: AdminUnit) -> int:
    return Resident.objects.filter(
        unit__edition=province.edition, unit__path__startswith=province.path
    ).count()


def province_generate(
    *,
    province_code: str,
    edition: int,
    people: int,
    seed: int,
    replace: bool = False,
    today: dt.date | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> GenerateSummary:
    """Generate a synthetic population for a loaded province (see the module docstring).

    Raises GenerateError (nothing written) when the province's units are not loaded, when
    it already has residents and `replace` is false, or when `people` is out of range.
    With `replace`, the province's residents, households, hamlets, visits and history, and
    the campaigns, outreach events and trainings of the province, are deleted first (hamlets
    that are a user's unit are kept and reused)."""
    started = time.monotonic()
    if edition not in (2023, 2025):
        raise GenerateError(f"--edition must be 2023 or 2025, not {edition}")
    if not 1 <= people <= MAX_PEOPLE:
        raise GenerateError(f"--people must be between 1 and {MAX_PEOPLE:,}, not {people}")
    today = today or timezone.localdate()
    province, districts, communes = _province_units(province_code, edition)
    summary = GenerateSummary(province=province.code, edition=edition, seed=seed, today=today)
    existing = residents_in(province)
    if existing and not replace:
        raise GenerateError(
            f"{province.name} ({edition} edition) already has {existing:,} residents: "
            "add --replace to delete them (and their history) and generate anew"
        )

    analysed = [Resident, StageEvent, Household, Visit, VisitOutcome, AdminUnit]
    with transaction.atomic():
        with bulk_writing([Household, Resident, HomeSupportRequest], analysed=analysed):
            mark = started
            if replace:
                summary.replaced = _purge_province(province)
                mark = _lap(summary, "replace", mark)
            _generate(summary, province, districts, communes, people, seed, today, on_progress)
        mark = _lap(summary, "rows", mark)
        # Rows written in bulk bypass the incremental rollup hooks: rebuild the edition's
        # rollups in the same transaction, so no dashboard sees residents without them.
        rollup_rebuild(edition=province.edition, on=today)
        mark = _lap(summary, "rollups", mark)
    _lap(summary, "commit", mark)
    summary.seconds = round(time.monotonic() - started, 1)
    return summary


def _lap(summary: GenerateSummary, name: str, since: float) -> float:
    now = time.monotonic()
    summary.timings[name] = round(now - since, 1)
    return now


def _purge_province(province: AdminUnit) -> int:
    """Delete what an earlier generation (or import) put under the province. Returns the
    number of residents deleted."""
    units = AdminUnit.objects.filter(edition=province.edition, path__startswith=province.path)
    households = Household.objects.filter(unit_id__in=units.values("pk"))
    try:
        purge(Visit.objects.filter(household_id__in=households.values("pk")))
        deleted = purge(Resident.objects.filter(unit_id__in=units.values("pk")))
        purge(households)
        purge(Campaign.objects.filter(province_id=province.id))
        purge(OutreachEvent.objects.filter(unit_id__in=units.values("pk")))
        purge(TrainingSession.objects.filter(unit_id__in=units.values("pk")))
        purge(keep_protected(units.filter(level=Level.HAMLET)))
    except PurgeError as exc:
        raise GenerateError(f"cannot replace the population of {province.name}: {exc}") from None
    return deleted


def _people_context(
    province: AdminUnit, campaign: Campaign, today: dt.date
) -> population.PeopleContext:
    own = province.code.zfill(3)
    codes = sorted(nid_lib.province_codes())
    if own not in codes:  # a 2025 code that was not a 2023 one: register them elsewhere
        own = codes[0]
    return population.PeopleContext(
        today=today,
        start=campaign.start_date,
        edition=province.edition,
        min_age=campaign.min_age,
        province_code=own,
        other_provinces=tuple(c for c in codes if c != own),
        nids=population.NationalIds(edition=province.edition),
    )


def _communes_write(
    commune_rows: Callable[[population.CommunePlan], "_CommuneBatch"],
    plans: list[population.CommunePlan],
    tables: "_Tables",
    people: int,
    on_progress: Callable[[int, int], None],
) -> dict[str, int]:
    """Build the communes in a producer thread and write each as it comes; returns the KPI
    tally of all of them."""
    tally = dict.fromkeys(("eligible", "registered0", "activated0", "registered", "activated"), 0)
    done = 0
    for counts, size, batch in _in_background(commune_rows, plans):
        tables.flush(batch)
        for name, count in counts.items():
            tally[name] += count
        done += size
        on_progress(done, people)
    return tally


def _summary_counted(
    summary: GenerateSummary, counts: dict[str, int], tally: dict[str, int]
) -> None:
    for name, count in counts.items():
        setattr(summary, name, count)
    eligible = tally["eligible"] or 1
    summary.eligible = tally["eligible"]
    summary.registration_rate_day0 = round(tally["registered0"] / eligible, 4)
    summary.activation_rate_day0 = round(tally["activated0"] / eligible, 4)
    summary.registration_rate = round(tally["registered"] / eligible, 4)
    summary.activation_rate = round(tally["activated"] / eligible, 4)


def _hamlets_and_teams(
    summary: GenerateSummary,
    salt: str,
    plans: list[population.CommunePlan],
    campaign: Campaign,
    districts: list[AdminUnit],
    clock: Clock,
) -> tuple[dict[int, list[AdminUnit]], teams.Roster]:
    """The communes' hamlets and the campaign's teams, counted on `summary`."""
    hamlets = _hamlets_create(plans)
    roster = teams.teams_create(
        random.Random(salt + ":teams"),
        campaign=campaign,
        districts=districts,
        plans=plans,
        hamlets=hamlets,
        clock=clock,
    )
    summary.hamlets = sum(len(h) for h in hamlets.values())
    summary.communes = len(plans)
    summary.teams = len(roster.teams)
    summary.members = sum(len(m) for m in roster.members.values())
    return hamlets, roster


def _generate(
    summary: GenerateSummary,
    province: AdminUnit,
    districts: list[AdminUnit],
    communes: list[AdminUnit],
    people: int,
    seed: int,
    today: dt.date,
    on_progress: Callable[[int, int], None],
) -> None:
    salt = f"gocua:{seed}:{province.edition}:{province.code}"
    province_rng = random.Random(salt)
    window = WINDOW_DAYS
    campaign = teams.campaign_plan(province=province, today=today, window=window)
    clock = Clock(start=campaign.start_date, window=window, tz=timezone.get_current_timezone())
    plans = population.commune_plans(
        province_rng, communes=communes, districts={d.id: d for d in districts}, people=people
    )
    hamlets, roster = _hamlets_and_teams(summary, salt, plans, campaign, districts, clock)
    ctx = _people_context(province, campaign, today)
    household_ids, resident_ids = IdBlock(Household), IdBlock(Resident)
    support_ids, quotas, shape = IdBlock(HomeSupportRequest), history.Quotas(), history.Shape()
    tables, deadline_day = _Tables(), (campaign.deadline - campaign.start_date).days + 1

    def commune_rows(plan: population.CommunePlan) -> _CommuneBatch:
        """Build one commune (pure Python, no database) and queue its rows on `tables`."""
        rng = random.Random(f"{salt}:{plan.unit.code}")
        homes = population.commune_people(
            rng,
            plan=plan,
            hamlets=hamlets[plan.unit.id],
            ctx=ctx,
            next_household_id=household_ids.take,
            next_resident_id=resident_ids.take,
        )
        members = [p for home in homes for p in home.members]
        history.commune_history(
            rng, people=members, plan=plan, quotas=quotas, shape=shape, window=window
        )
        field_rows = history.commune_fieldwork(
            rng,
            homes=homes,
            window=window,
            deadline_day=deadline_day,
            hamlet_member=roster.hamlet_member,
            police=roster.police[plan.unit.id],
            next_home_support_id=support_ids.take,
        )
        return history.kpi_tally(members), len(members), tables.rows(homes, field_rows, clock)

    tally = _communes_write(commune_rows, plans, tables, people, on_progress)
    extra = _outreach(salt, province, districts, plans, roster, clock, window)
    _summary_counted(summary, {**tables.counts, **extra}, tally)


def _outreach(
    salt: str,
    province: AdminUnit,
    districts: list[AdminUnit],
    plans: list[population.CommunePlan],
    roster: teams.Roster,
    clock: Clock,
    window: int,
) -> dict[str, int]:
    """The province's outreach events and trainings (their own random stream)."""
    return teams.outreach_and_training(
        random.Random(salt + ":outreach"),
        province=province,
        districts=districts,
        plans=plans,
        roster=roster,
        clock=clock,
        window=window,
    )


def _hamlets_create(plans: list[population.CommunePlan]) -> dict[int, list[AdminUnit]]:
    """'Ấp 1'..'Ấp N' (or 'Khu phố N' in a ward) per commune, with the invariants of
    geo.services.hamlet_get_or_create (code '<commune>-NN', path, depth, name_key, kind,
    province code, the commune's centroid), in one bulk insert. A hamlet of that name that
    already exists (kept by --replace, or made by an import) is reused."""
    existing: dict[tuple[int | None, str], AdminUnit] = {}
    taken: set[str] = set()
    communes = [plan.unit for plan in plans]
    for known in AdminUnit.objects.filter(parent__in=communes, level=Level.HAMLET):
        existing[(known.parent_id, known.name_key)] = known
        taken.add(known.code)
    new: list[AdminUnit] = []
    result: dict[int, list[AdminUnit]] = {}
    for plan in plans:
        commune = plan.unit
        result[commune.id] = []
        number = 0
        for name in population.hamlet_names(plan):
            hamlet = existing.get((commune.id, key(name)))
            if hamlet is None:
                number += 1
                while f"{commune.code}-{number:02d}" in taken:
                    number += 1
                code = f"{commune.code}-{number:02d}"
                taken.add(code)
                hamlet = AdminUnit(
                    edition=commune.edition,
                    code=code,
                    name=name,
                    kind=plan.hamlet_kind,
                    level=Level.HAMLET,
                    parent=commune,
                    path=f"{commune.path}{code}/",
                    depth=commune.depth + 1,
                    province_code=commune.province_code,
                    name_key=key(name),
                    lat=commune.lat,
                    lon=commune.lon,
                )
                new.append(hamlet)
            result[commune.id].append(hamlet)
    AdminUnit.objects.bulk_create(new, batch_size=500)
    return result


# The columns the generator fills, table by table, parents before children (see writer.Table).
_COLUMNS: dict[str, tuple[type[Model], list[str]]] = {
    "households": (
        Household,
        ["id", "unit_id", "code", "address", "lat", "lon", "province_code", "walk_key"],
    ),
    "residents": (
        Resident,
        [
            "id",
            "national_id",
            "full_name",
            "name_search",
            "birth_date",
            "birth_year_only",
            "sex",
            "phone",
            "unit_id",
            "household_id",
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
        ],
    ),
    "stage_events": (
        StageEvent,
        [
            "resident_id",
            "from_stage",
            "to_stage",
            "from_level",
            "to_level",
            "at",
            "source",
        ],
    ),
    "visits": (
        Visit,
        [
            "id",
            "household_id",
            "member_id",
            "at",
            "received_at",
            "note",
            "lat",
            "lon",
        ],
    ),
    "visit_outcomes": (
        VisitOutcome,
        [
            "visit_id",
            "resident_id",
            "outcome",
            "note",
            "claimed_stage",
            "confirmed_at",
            "review",
            "reviewed_at",
        ],
    ),
    "follow_ups": (
        FollowUp,
        [
            "household_id",
            "resident_id",
            "visit_id",
            "member_id",
            "due_date",
            "time_of_day",
            "reason",
            "status",
            "done_at",
            "created_at",
        ],
    ),
    "home_support_requests": (
        HomeSupportRequest,
        [
            "id",
            "resident_id",
            "visit_id",
            "reason",
            "status",
            "requested_at",
            "scheduled_at",
            "scheduled_for",
            "closed_at",
            "close_reason",
        ],
    ),
    "officers": (HomeSupportRequest.officers.through, ["homesupportrequest_id", "member_id"]),
}


class _Tables:
    """The bulk tables. `rows()` is pure (it runs in the producer thread); `flush()` writes a
    commune's batch with the backend's bulk path, parents before children."""

    def __init__(self) -> None:
        self.tables = {name: Table(model, columns) for name, (model, columns) in _COLUMNS.items()}
        self.counts = dict.fromkeys(self.tables, 0)
        # Decided here, in the database thread: the producer thread never touches `connection`.
        self.native_uuid = connection.features.has_native_uuid_field

    def rows(
        self, homes: list[population.Home], field_rows: history.FieldRows, clock: Clock
    ) -> dict[str, list[Row]]:
        extra = {name: table.extra for name, table in self.tables.items()}
        native_uuid = self.native_uuid

        def db_uuid(value: uuid.UUID) -> uuid.UUID | str:
            return value if native_uuid else value.hex

        households, residents, events = _people_rows(homes, clock, extra)
        visits, outcomes, follow_ups, support = _field_rows(field_rows, clock, db_uuid, extra)
        officers = [row + extra["officers"] for row in field_rows.officers]
        return {
            "households": households,
            "residents": residents,
            "stage_events": events,
            "visits": visits,
            "visit_outcomes": outcomes,
            "follow_ups": follow_ups,
            "home_support_requests": support,
            "officers": officers,
        }

    def flush(self, batch: dict[str, list[Row]]) -> None:
        for name, table in self.tables.items():
            rows = batch[name]
            if rows:
                rows_write(table.table, table.columns, rows)
                self.counts[name] += len(rows)


def _people_rows(
    homes: list[population.Home], clock: Clock, extra: dict[str, Row]
) -> tuple[list[Row], list[Row], list[Row]]:
    """The households, residents and stage events of a commune's homes, as table rows."""
    at = clock.at
    # "Written" when the history ends, after the night extract (not at now(): the same
    # seed must give the same rows; and never after the run, see history.last_moment).
    stamp = at(history.last_moment(clock.window))
    households: list[Row] = []
    residents: list[Row] = []
    events: list[Row] = []
    for home in homes:
        province_code = home.hamlet.province_code
        households.append(
            (
                home.id,
                home.hamlet.id,
                home.code,
                home.address,
                home.lat,
                home.lon,
                province_code,
                walk_key_for(home.address, home.hamlet),
            )
            + extra["households"]
        )
        for p in home.members:
            residents.append(
                (
                    p.id,
                    p.national_id,
                    p.full_name,
                    name_search_of(p.full_name),
                    p.birth_date,
                    p.birth_year_only,
                    p.sex,
                    p.phone,
                    home.hamlet.id,
                    home.id,
                    province_code,
                    p.elderly,
                    p.disabled,
                    p.no_smartphone,
                    p.away,
                    p.moved_out,
                    p.deceased,
                    p.needs_id_card,
                    p.stage,
                    p.level,
                    at(p.stage_at),
                    at(p.last_used_at),
                    stamp,
                )
                + extra["residents"]
            )
            events += [
                (p.id, frm, to, frm_level, to_level, at(t), source) + extra["stage_events"]
                for t, frm, to, frm_level, to_level, source in p.events
            ]
    return households, residents, events


def _field_rows(
    field_rows: history.FieldRows,
    clock: Clock,
    db_uuid: Callable[[uuid.UUID], uuid.UUID | str],
    extra: dict[str, Row],
) -> tuple[list[Row], list[Row], list[Row], list[Row]]:
    """The visits, their outcomes, the follow-ups and home-support requests, as table rows."""
    at, day_date = clock.at, clock.day_date
    visits = [
        (db_uuid(v), household, member, at(t), at(received), "", lat, lon) + extra["visits"]
        for v, household, member, t, received, lat, lon in field_rows.visits
    ]
    outcomes = [
        (db_uuid(v), resident, outcome, note, claimed, at(confirmed), review, at(reviewed))
        + extra["visit_outcomes"]
        for v, resident, outcome, note, claimed, confirmed, review, reviewed in field_rows.outcomes
    ]
    follow_ups = [
        (
            household,
            resident,
            db_uuid(v),
            member,
            day_date(due),
            when,
            reason,
            status,
            at(done_at),
            at(created),
        )
        + extra["follow_ups"]
        for household, resident, v, member, due, when, reason, status, done_at, created in field_rows.follow_ups
    ]
    support = _support_rows(field_rows, clock, db_uuid, extra)
    return visits, outcomes, follow_ups, support


def _support_rows(
    field_rows: history.FieldRows,
    clock: Clock,
    db_uuid: Callable[[uuid.UUID], uuid.UUID | str],
    extra: dict[str, Row],
) -> list[Row]:
    """The home-support requests, as table rows."""
    at, day_date = clock.at, clock.day_date
    return [
        (
            hid,
            resident,
            db_uuid(v),
            reason,
            status,
            at(requested),
            at(scheduled_at),
            day_date(scheduled_for) if scheduled_for is not None else None,
            at(closed),
            close_reason,
        )
        + extra["home_support_requests"]
        for (
            hid,
            resident,
            v,
            reason,
            status,
            requested,
            scheduled_at,
            scheduled_for,
            closed,
            close_reason,
        ) in field_rows.home_support
    ]


def _in_background(
    build: Callable[[_Item], _Built], items: list[_Item], depth: int = 2
) -> Iterator[_Built]:
    """`build(item)` for each item in a producer thread, yielding results in order.

    On a 2-core machine this overlaps building the next commune (Python) with the database
    writing the previous one (COPY, index upkeep and foreign-key checks run in the server
    process, and psycopg releases the GIL while it waits). The producer never touches the
    database; only this thread does."""
    # (True, a result or _DONE) or (False, the exception the producer raised)
    results: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                results.put((True, build(item)))
            results.put((True, _DONE))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            results.put((False, exc))

    worker = threading.Thread(target=produce, name="gocua-generate", daemon=True)
    worker.start()
    try:
        while True:
            ok, value = results.get()
            if not ok:
                raise value
            if value is _DONE:
                return
            yield value
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                results.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()


_DONE = object()
