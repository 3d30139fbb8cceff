"""Visits in the rollups: the queued visits' flows, households reached and claims.

Recording a visit only queues it (gocua.changes.visits_recorded: one INSERT in the post's
transaction). The counting happens in the worker's fold, under the rollups' lock, for every
queued visit at once: soon after a post's commit (`fold_soon`), on the worker's every round,
and in the nightly roll. A phone's post therefore neither waits for the lock nor updates the
province's day row, and a fold of a few hundred visits costs about what one visit did.
Exactness rests on two rules:
- a fold reads a queued visit's claims against the confirmed stage *at the fold*, and a
  stage change found before that (`residents.flip_claims`) skips queued visits: each claim is
  judged once;
- "households reached" counts a household the first time a *folded* visit reaches it that
  day: visits still queued are not "earlier" (they will see this fold's visits when theirs
  comes), so the order of folds does not matter."""

import datetime as dt
import time
from collections import defaultdict
from typing import NamedTuple

from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from gocua.changes.models import PendingVisit
from gocua.fieldwork.models import Visit, VisitOutcome
from gocua.lib.bulk import select_in
from gocua.people.funnel import RANK_BY_CODE
from gocua.reports.models import RollupState
from gocua.reports.rollups import dates
from gocua.reports.rollups.residents import CLAIM_CODES, CLAIM_FLOW
from gocua.reports.rollups.rows import Flows, flows, write_member_flows, write_unit_flows
from gocua.worker.services import enqueue_once

NOT_HOME = "not_home"
FOLD_EVERY = 0.5  # seconds between the folds a worker process asks for after a post
FOLD_CHUNK = 2000
_next_fold = 0.0

_PENDING_SQL = f'SELECT "visit_id" FROM "{PendingVisit._meta.db_table}" LIMIT %s'
_DEQUEUE_SQL = (
    f'DELETE FROM "{PendingVisit._meta.db_table}" WHERE "visit_id" {{in_}} RETURNING "visit_id"'
)
_VISITS_SQL = (
    'SELECT v."id", v."household_id", h."unit_id", v."member_id", v."at" '
    f'FROM "{Visit._meta.db_table}" v '
    'JOIN "people_household" h ON h."id" = v."household_id" WHERE v."id" {in_}'
)
_OUTCOMES_SQL = (
    'SELECT "visit_id", "resident_id", "outcome", "claimed_stage" '
    f'FROM "{VisitOutcome._meta.db_table}" WHERE "visit_id" {{in_}}'
)
# "Not queued" is NOT IN, never NOT EXISTS: the queue is filled and emptied all day, so its
# planner statistics say it is empty, and PostgreSQL planned NOT EXISTS as a nested loop over
# the whole queue for every visit (12 ms a fold with 114 queued, growing with both); NOT IN
# hashes the queue once (hashed SubPlan, 2 ms). visit_id is never NULL, so the two agree.
_NOT_QUEUED = f'"id" NOT IN (SELECT "visit_id" FROM "{PendingVisit._meta.db_table}")'
_REACHED_SQL = (  # who reached which of these households in a time window, folded visits only
    f'SELECT DISTINCT v."household_id", v."member_id" FROM "{Visit._meta.db_table}" v '
    'WHERE v."at" >= %s AND v."at" < %s AND v."household_id" {in_} AND v.' + _NOT_QUEUED
)
_SNAPSHOT_STAGES_SQL = (
    "SELECT resident_id, stage FROM reports_residentsnapshot WHERE resident_id {in_}"
)


class QueuedVisit(NamedTuple):
    id: object  # the database value of its UUID
    household_id: int
    unit_id: int
    member_id: int | None
    day: dt.date


class Claim(NamedTuple):
    resident_id: int
    outcome: str
    claimed: str


def changes_queued(*, kind: str, **_signal) -> None:
    """After the commit of a transaction that recorded changes (gocua.changes): residents an
    import inserted are counted by the catch-up task, anything else by a fold soon."""
    if kind == "residents_added":
        enqueue_once(import_string("gocua.reports.tasks.rollup_catch_up"))
    else:
        fold_soon()


def fold_soon() -> None:
    """After the commit of a post that queued visits or edited residents: ask the worker for
    a fold (gocua.reports.tasks.rollup_fold), at most once every FOLD_EVERY seconds per
    process, and not when one is already waiting. The phone's answer never waits for it."""
    global _next_fold
    now = time.monotonic()
    if now < _next_fold:
        return
    _next_fold = now + FOLD_EVERY
    enqueue_once(import_string("gocua.reports.tasks.rollup_fold"))


def fold_visits(state: RollupState, limit: int | None = None) -> int:
    """Fold the queued visits, a chunk at a time; the caller holds the state's lock.

    Without a limit it stops at the first chunk that is not full: the visits queued while it
    works wait for the next fold. Looping until the queue was empty never ended while phones
    kept posting: one transaction folded a few visits at a time for minutes."""
    done = 0
    chunk = min(FOLD_CHUNK, limit or FOLD_CHUNK)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_PENDING_SQL, [chunk])
            keys = [row[0] for row in cursor.fetchall()]
        if keys:
            _fold_chunk(state, keys)
            done += len(keys)
        if len(keys) < chunk or (limit is not None and done >= limit):
            return done


def _fold_chunk(state: RollupState, keys: list) -> None:
    """Add these queued visits (database values of their ids) to the rollups and take them
    off the queue.

    Hand-written reads with one array parameter (lib.bulk.select_in), not prepared: prepared,
    they kept the plan of the tables' first minutes (a scan of every outcome)."""
    zone = timezone.get_current_timezone()  # once: localdate() looks it up on every call
    visits = [
        QueuedVisit(
            vid, household_id, unit_id, member_id, dates.as_datetime(at).astimezone(zone).date()
        )
        for vid, household_id, unit_id, member_id, at in select_in(
            _VISITS_SQL, keys, prepared=False
        )
    ]
    claims: dict = defaultdict(list)
    for visit_id, resident_id, outcome, claimed in select_in(_OUTCOMES_SQL, keys, prepared=False):
        claims[visit_id].append(Claim(resident_id, outcome, claimed))
    # Claims are judged against the confirmed stage the rollups count (the snapshot): every
    # stage change is recounted (gocua.changes.residents_changed) and moves the claims already
    # folded (`flip_claims`); one a path forgot is caught by the nightly sweep, which moves
    # them too.
    residents = sorted({c.resident_id for items in claims.values() for c in items})
    stages: dict[int, int] = dict(select_in(_SNAPSHOT_STAGES_SQL, residents))
    counted = [v for v in visits if state.first_day <= v.day <= state.day]
    # Asked while this batch is still queued: the queue is what "not folded yet" means, for
    # these visits and for those other posts queue meanwhile.
    reached = _reached_before(counted)
    select_in(_DEQUEUE_SQL, keys, prepared=False)
    if counted:
        unit_flows, member_flows = _count(counted, claims, stages, reached)
        write_unit_flows(unit_flows)
        write_member_flows(member_flows)


def _reached_before(counted: list[QueuedVisit]) -> tuple[set, set]:
    """(household, day) and (member, household, day) that visits folded earlier reached.
    Asked day by day: a fold's visits are nearly all of one day."""
    households: set[tuple] = set()
    members: set[tuple] = set()
    for day in sorted({v.day for v in counted}):
        window = (
            connection.ops.adapt_datetimefield_value(dates.day_start(day)),
            connection.ops.adapt_datetimefield_value(dates.day_start(day + dt.timedelta(days=1))),
        )
        for household_id, member_id in select_in(
            _REACHED_SQL,
            sorted({v.household_id for v in counted if v.day == day}),
            window,
            prepared=False,
        ):
            households.add((household_id, day))
            members.add((member_id, household_id, day))
    return households, members


def _count(
    counted: list[QueuedVisit], claims: dict, stages: dict, reached: tuple[set, set]
) -> tuple[Flows, Flows]:
    """The flows of these visits, by unit and day and by member and day. A household counts
    once per day (and once per member per day): only if no visit folded earlier reached it."""
    households, member_households = reached
    unit_flows, member_flows = flows(), flows()
    for visit in counted:
        unit = unit_flows[(visit.unit_id, visit.day)]
        # A visit without a member counts under None, which write_member_flows drops.
        member = member_flows[(visit.member_id, visit.day)]  # type: ignore[index]
        unit["visits"] += 1
        member["visits"] += 1
        if (visit.household_id, visit.day) not in households:
            households.add((visit.household_id, visit.day))
            unit["households"] += 1
        if (visit.member_id, visit.household_id, visit.day) not in member_households:
            member_households.add((visit.member_id, visit.household_id, visit.day))
            member["households"] += 1
        items = claims.get(visit.id, [])
        if any(c.outcome != NOT_HOME for c in items):
            unit["contacted"] += 1
            member["contacted"] += 1
        for claim in items:
            if claim.claimed not in CLAIM_CODES:
                continue
            claims_column, confirmed_column = CLAIM_FLOW[claim.claimed]
            unit[claims_column] += 1
            member["claims"] += 1
            need = RANK_BY_CODE[CLAIM_CODES[claim.claimed]]
            if RANK_BY_CODE[stages.get(claim.resident_id, 0)] >= need:
                unit[confirmed_column] += 1
                member["confirmed"] += 1
    return unit_flows, member_flows
