"""Residents in the rollups: each one compared with what was counted before (its snapshot).

`ResidentSnapshot` stores what the rollups last counted for each resident (unit, birth date,
active, stage, level, id of the last stage event seen). `recount_residents` reads the
residents and their stage events, compares them with their snapshots, and writes the
difference of the two contributions: callers only say *who* changed (gocua.changes), never
how, so a write path cannot get the deltas wrong, and counting someone twice is harmless (the
second time finds nothing to do). A confirmed stage that changed also moves the claims it now
supports (`flip_claims`)."""

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Q

from gocua.changes.models import ChangedResident, PendingVisit
from gocua.fieldwork.models import VisitOutcome
from gocua.lib.bulk import bulk_insert, execute_in, pg_array, select_in
from gocua.people.funnel import RANK_BY_CODE, STAGE_CODES, STAGE_NAMES
from gocua.people.models import Resident
from gocua.reports.models import ResidentSnapshot, RollupState, StageRegression
from gocua.reports.rollups import dates
from gocua.reports.rollups.rows import flows, write_member_flows, write_stocks, write_unit_flows
from gocua.reports.rollups.state import locked_state, span_of
from gocua.reports.rollups.stocks import (
    Counted,
    Diffs,
    Span,
    StageStep,
    add_contribution,
    add_into,
    stock_vector,
)

CLAIM_FLOW = {  # a claimed stage: its claims column, and the column of those confirmed
    "registered": ("claims_registered", "confirmed_registered"),
    "activated": ("claims_activated", "confirmed_activated"),
    "used": ("claims_used", "confirmed_used"),
}
# The stages a claim can name, by their code.
CLAIM_CODES = {stage: STAGE_CODES[stage] for stage in CLAIM_FLOW}

_RESIDENTS_SQL = (
    "SELECT id, unit_id, birth_date, deceased, moved_out, eid_stage, eid_level "
    "FROM people_resident WHERE {column} {{in_}}"
)
_SNAPSHOTS_SQL = (
    "SELECT resident_id, unit_id, birth_date, active, stage, level, last_event_id "
    "FROM reports_residentsnapshot WHERE resident_id {in_}"
)
_EVENTS_SQL = (
    "SELECT id, resident_id, at, from_stage, to_stage, from_level, to_level "
    "FROM people_stageevent WHERE at >= %s AND resident_id {in_} ORDER BY id"
)
SNAPSHOT_COLUMNS = [
    "resident_id",
    "unit_id",
    "birth_date",
    "active",
    "stage",
    "level",
    "last_event_id",
]
_SNAPSHOT_SET = (
    "ON CONFLICT (resident_id) DO UPDATE SET "
    "unit_id = excluded.unit_id, birth_date = excluded.birth_date, active = excluded.active, "
    "stage = excluded.stage, level = excluded.level, last_event_id = excluded.last_event_id"
)
_SNAPSHOT_UPSERT = (
    f"INSERT INTO reports_residentsnapshot ({', '.join(SNAPSHOT_COLUMNS)}) "
    f"VALUES (%s, %s, %s, %s, %s, %s, %s) {_SNAPSHOT_SET}"
)
_SNAPSHOT_UPSERT_PG = (
    f"INSERT INTO reports_residentsnapshot ({', '.join(SNAPSHOT_COLUMNS)}) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::boolean[], "
    f"%s::smallint[], %s::smallint[], %s::bigint[]) {_SNAPSHOT_SET}"
)
# A resident row as a snapshot row, in SQL (new residents are snapshotted by the database).
STAGE_CASE = " ".join(f"WHEN '{name}' THEN {code}" for name, code in STAGE_CODES.items())
SNAPSHOT_OF_RESIDENT = (
    "r.id, r.unit_id, r.birth_date, CASE WHEN r.deceased OR r.moved_out THEN FALSE ELSE TRUE "
    f"END, CASE r.eid_stage {STAGE_CASE} END, r.eid_level"
)


EDITED_BATCH = 5000  # edited residents recounted per statement


class Seen(NamedTuple):
    """A resident's snapshot: as last counted, and the last stage event then seen."""

    counted: Counted
    last_event_id: int


class Flip(NamedTuple):
    """A confirmed stage that changed (codes): the claims it supports may change with it."""

    resident_id: int
    before: int
    after: int


@dataclass
class Recount:
    """What a recount of some residents writes, gathered before writing it."""

    diffs: Diffs = field(default_factory=dict)
    # New residents without stage events (nearly every row of an import): counted by (unit,
    # first day counted, stage, level) and added once each, not one vector per person.
    plain: dict[tuple[int, dt.date, int, int], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    plain_ids: list[int] = field(default_factory=list)
    inserts: list[tuple] = field(default_factory=list)  # snapshots new to the table
    upserts: list[tuple] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    regressions: list[StageRegression] = field(default_factory=list)
    moved: list[tuple[int, int]] = field(default_factory=list)  # (resident, new unit)
    changed: int = 0


def rollup_residents_changed(
    *, resident_ids: Iterable[int] = (), national_ids: Iterable[str] = ()
) -> int:
    """Bring the rollups up to date for these residents now, in the caller's transaction (the
    write paths queue them instead: gocua.changes.residents_changed). Returns how many changed
    the counts; a no-op until the rollups are built."""
    resident_ids, national_ids = list(resident_ids), list(national_ids)
    if not resident_ids and not national_ids:
        return 0
    with transaction.atomic():
        state = locked_state()
        if state is None:
            return 0
        return recount_residents(state, resident_ids, national_ids)


def fold_edited(state: RollupState | None, *, batches: int | None = None) -> int:
    """Recount the residents the write paths queued as edited, a batch at a time (at most
    `batches` of them), and take them off the queue (the caller holds the state's lock).
    Without the rollups built the queue is only emptied: a build reads everyone. Returns how
    many queue rows were taken."""
    done = 0
    for _batch in itertools.count() if batches is None else range(batches):
        queued = list(
            ChangedResident.objects.order_by("id").values_list("id", "resident_id")[:EDITED_BATCH]
        )
        if not queued:
            return done
        if state is not None:
            recount_residents(state, sorted({rid for _id, rid in queued}), [])
        ChangedResident.objects.filter(id__lte=queued[-1][0]).delete()
        done += len(queued)
        if len(queued) < EDITED_BATCH:
            return done
    return done


def recount_residents(state: RollupState, resident_ids: list[int], national_ids: list[str]) -> int:
    """Compare these residents with their snapshots and write the differences (the caller
    holds the state's lock). Returns how many residents changed the counts."""
    span = span_of(state)
    now = _read_now(resident_ids, national_ids)
    ids = sorted(set(resident_ids) | set(now))
    seen = _read_snapshots(ids)
    steps = _read_steps(ids, span)
    out = Recount()
    for rid in ids:
        _compare(rid, now.get(rid), seen.get(rid), steps.get(rid, []), span, out)
    if out.changed:
        _write(out, span)
    return out.changed


def _read_now(resident_ids: list[int], national_ids: list[str]) -> dict[int, Counted]:
    found = select_in(_RESIDENTS_SQL.format(column="id"), resident_ids)
    found += select_in(_RESIDENTS_SQL.format(column="national_id"), national_ids)
    return {
        rid: Counted(
            unit_id, dates.as_date(birth), not (deceased or moved), STAGE_CODES[stage], level
        )
        for rid, unit_id, birth, deceased, moved, stage, level in found
    }


def _read_snapshots(ids: list[int]) -> dict[int, Seen]:
    return {
        rid: Seen(Counted(unit_id, dates.as_date(birth), bool(active), stage, level), last_seen)
        for rid, unit_id, birth, active, stage, level, last_seen in select_in(_SNAPSHOTS_SQL, ids)
    }


def _read_steps(ids: list[int], span: Span) -> dict[int, list[StageStep]]:
    """The stage events since the day after the first day, by resident, in event order."""
    steps: dict[int, list[StageStep]] = defaultdict(list)
    after = connection.ops.adapt_datetimefield_value(
        dates.day_start(span.first + dt.timedelta(days=1))
    )
    for eid, rid, at, frm, to, frm_level, to_level in select_in(_EVENTS_SQL, ids, (after,)):
        at = dates.as_datetime(at)
        day = min(max(dates.local_day(at), span.first), span.last)
        steps[rid].append(
            StageStep(eid, day, STAGE_CODES[frm], STAGE_CODES[to], frm_level, to_level, at)
        )
    return steps


def _compare(
    rid: int,
    now: Counted | None,
    seen: Seen | None,
    steps: list[StageStep],
    span: Span,
    out: Recount,
) -> None:
    """Add to `out` what changed for one resident since their snapshot."""
    before, last_seen = seen if seen is not None else (None, 0)
    fresh = [s for s in steps if s.id > last_seen]
    if before == now and not fresh:
        return
    out.changed += 1
    if before is None and not steps and now is not None:
        _count_plain(rid, now, span, out)
        return
    add_contribution(before, [s for s in steps if s.id <= last_seen], span, out.diffs, -1)
    add_contribution(now, steps, span, out.diffs, 1)
    if now is None:
        out.gone.append(rid)
        return
    snapshot = (rid, *now, max([last_seen, *(s.id for s in steps)]))
    if before is None:
        out.inserts.append((rid, now.unit_id, now.birth_date.isoformat(), *snapshot[3:]))
    else:
        out.upserts.append(snapshot)
    # New to the snapshot: a claim folded before it was there was judged as "none".
    stage_before = before.stage if before is not None else 0
    if stage_before != now.stage:
        out.flips.append(Flip(rid, stage_before, now.stage))
    if before is not None and before.unit_id != now.unit_id:
        out.moved.append((rid, now.unit_id))
    for step in fresh:
        if RANK_BY_CODE[step.to_stage] < RANK_BY_CODE[step.from_stage]:
            out.regressions.append(
                StageRegression(
                    event_id=step.id,
                    resident_id=rid,
                    unit_id=now.unit_id,
                    at=step.at,
                    from_stage=STAGE_NAMES[step.from_stage],
                    to_stage=STAGE_NAMES[step.to_stage],
                )
            )


def _count_plain(rid: int, now: Counted, span: Span, out: Recount) -> None:
    """A resident new to the rollups without stage events: snapshotted by the database."""
    out.plain_ids.append(rid)
    if now.stage != 0:
        out.flips.append(Flip(rid, 0, now.stage))
    if not now.active:
        return
    start = max(dates.eligible_from(now.birth_date, span.min_age), span.first)
    if start <= span.last:
        out.plain[(now.unit_id, start, now.stage, now.level)] += 1


def _write(out: Recount, span: Span) -> None:
    for (unit_id, start, stage, level), n in out.plain.items():
        add_into(out.diffs, (unit_id, start), stock_vector(stage, level), n)
    write_stocks(out.diffs, span.last)
    if out.plain_ids:
        snapshots_copy(out.plain_ids)
    if out.inserts:
        bulk_insert(ResidentSnapshot._meta.db_table, SNAPSHOT_COLUMNS, out.inserts)
    if out.upserts:
        snapshots_write(out.upserts)
    if out.gone:
        ResidentSnapshot.objects.filter(resident_id__in=out.gone).delete()
    for rid, unit_id in out.moved:
        StageRegression.objects.filter(resident_id=rid).update(unit_id=unit_id)
    if out.regressions:
        StageRegression.objects.bulk_create(out.regressions, batch_size=1000, ignore_conflicts=True)
    if out.flips:
        flip_claims(out.flips, span)


def snapshots_copy(resident_ids: list[int]) -> None:
    """Snapshot residents new to the rollups, without stage events, as they are in the
    residents table: one INSERT .. SELECT, the database copying its own rows (an import
    chunk's 5,000 formatted and sent from here cost a tenth of the import)."""
    qn = connection.ops.quote_name
    execute_in(
        f"INSERT INTO {qn(ResidentSnapshot._meta.db_table)} ({', '.join(SNAPSHOT_COLUMNS)}) "
        f"SELECT {SNAPSHOT_OF_RESIDENT}, 0 FROM {qn(Resident._meta.db_table)} r WHERE r.id {{in_}}",
        resident_ids,
    )


def snapshots_write(rows: list[tuple]) -> None:
    """Upsert (resident, unit, birth date, active, stage, level, last event) rows: one statement
    with an array per column on PostgreSQL (a row per statement cost a whole import chunk
    2.8 s per 100k residents), one executemany on SQLite, in-process."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = list(zip(*rows, strict=True))
            cursor.execute(
                _SNAPSHOT_UPSERT_PG,
                [
                    pg_array(columns[0]),
                    pg_array(columns[1]),
                    pg_array(d.isoformat() for d in columns[2]),
                    pg_array("t" if a else "f" for a in columns[3]),
                    pg_array(columns[4]),
                    pg_array(columns[5]),
                    pg_array(columns[6]),
                ],
            )
            return
        adapt = connection.ops.adapt_datefield_value
        cursor.executemany(_SNAPSHOT_UPSERT, [(r[0], r[1], adapt(r[2]), *r[3:]) for r in rows])


def flip_claims(flips: list[Flip], span: Span) -> None:
    """A confirmed stage changed: claims it now supports (or no longer supports) move. Claims
    of queued visits are left alone: their fold judges them against the stage it finds."""
    queued = PendingVisit.objects.values("visit_id")  # NOT IN, as in visits._NOT_QUEUED
    by_resident = {f.resident_id: f for f in flips}
    unit_flows, member_flows = flows(), flows()
    ids = list(by_resident)
    for start in range(0, len(ids), 5000):
        for rid, claimed, at, member_id, unit_id in VisitOutcome.objects.filter(
            ~Q(visit_id__in=queued),
            resident_id__in=ids[start : start + 5000],
            claimed_stage__in=list(CLAIM_CODES),
        ).values_list(
            "resident_id",
            "claimed_stage",
            "visit__at",
            "visit__member_id",
            "visit__household__unit_id",
        ):
            day = dates.local_day(at)
            if not span.first <= day <= span.last:
                continue
            flip = by_resident[rid]
            need = RANK_BY_CODE[CLAIM_CODES[claimed]]
            step = int(RANK_BY_CODE[flip.after] >= need) - int(RANK_BY_CODE[flip.before] >= need)
            if step:
                unit_flows[(unit_id, day)][CLAIM_FLOW[claimed][1]] += step
                if member_id is not None:
                    member_flows[(member_id, day)]["confirmed"] += step
    write_unit_flows(unit_flows)
    write_member_flows(member_flows)
