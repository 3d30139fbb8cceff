"""Residents an import inserted: counted many chunks at a time, set-based.

An import inserts thousands of residents a chunk. Counting each one in the chunk (read the
rows back, diff against no snapshot, write a snapshot row each) cost an import of 300,000
people 60% of its time. Instead a chunk queues the runs of ids it inserted
(gocua.changes.residents_added: one INSERT, no lock) and `rollup_catch_up` counts many
chunks' residents at once with a GROUP BY and one INSERT .. SELECT of their snapshots: the
worker does it while the import goes on (`gocua import` from the command line runs it at its
end, so an import that has returned has been counted)."""

import datetime as dt

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)

from gocua.changes.models import PendingResidents
from gocua.fieldwork.models import VisitOutcome
from gocua.lib.ranges import merge
from gocua.people.funnel import STAGE_CODES
from gocua.people.models import Resident, StageEvent
from gocua.reports.models import ResidentSnapshot, RollupState
from gocua.reports.rollups import dates
from gocua.reports.rollups.residents import (
    CLAIM_CODES,
    SNAPSHOT_COLUMNS,
    SNAPSHOT_OF_RESIDENT,
    Flip,
    flip_claims,
    recount_residents,
)
from gocua.reports.rollups.rows import rollup_units_kept, write_stocks
from gocua.reports.rollups.state import locked_state, span_of
from gocua.reports.rollups.stocks import Diffs, Span, add_into, stock_vector

CATCH_UP_BATCH = 100_000


def count_stocks(rows, stage: str, level: str, span: Span, out: Diffs) -> None:
    """Add to `out` the stocks of these people (active residents, or their snapshots) from the
    first day each is eligible, grouped in the database by (unit, birth bucket, stage, level):
    the rebuild and the catch-up of new residents count alike."""
    c_first = dates.eligibility_cutoff(span.first, span.min_age)
    c_last = dates.eligibility_cutoff(span.last, span.min_age)
    bucket = Case(
        When(birth_date__lte=c_first, then=Value(c_first)),
        default=F("birth_date"),
        output_field=DateField(),
    )
    level2 = Case(When(**{level: 2}, then=1), default=0, output_field=IntegerField())
    for unit_id, born, code, l2, n in (
        rows.filter(birth_date__lte=c_last)
        .annotate(b=bucket, l2=level2)
        .values_list("unit_id", "b", stage, "l2")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        start = span.first if born <= c_first else dates.eligible_from(born, span.min_age)
        code = STAGE_CODES[code] if isinstance(code, str) else code
        add_into(out, (unit_id, start), stock_vector(code, 2 if l2 else 0), n)


def rollup_catch_up() -> int:
    """Count every queued new resident, in transactions of up to CATCH_UP_BATCH people (the
    lock is held one batch at a time, so the folds of phones' visits pass in between).
    Returns how many residents were counted."""
    total = 0
    with rollup_units_kept():  # the same hamlets, batch after batch
        while True:
            with transaction.atomic():
                counted = _catch_up_batch()
            if counted is None:
                return total
            total += counted


def _catch_up_batch() -> int | None:
    """One batch, in the caller's transaction; None when nothing was queued.

    Under the state's lock nothing else writes snapshots: the residents read by the GROUP BY
    and by the INSERT .. SELECT below are the same."""
    state = locked_state()
    queued = list(PendingResidents.objects.order_by("id").values_list("id", "first_id", "last_id"))
    if not queued:
        return None
    if state is None:  # dropped since: a rebuild will count everyone
        PendingResidents.objects.filter(id__in=[q[0] for q in queued]).delete()
        return 0
    taken, size = [], 0
    for row in queued:
        taken.append(row)
        size += row[2] - row[1] + 1
        if size >= CATCH_UP_BATCH:
            break
    runs = merge((first, last) for _id, first, last in taken)
    _count_new(state, runs)
    PendingResidents.objects.filter(id__in=[row[0] for row in taken]).delete()
    return size


def _count_new(state: RollupState, runs: list[list[int]]) -> None:
    """Count the residents of these id runs the snapshot does not have yet."""
    span = span_of(state)
    in_runs = Q()
    for first_id, last_id in runs:
        in_runs |= Q(id__range=(first_id, last_id))
    counted = Exists(ResidentSnapshot.objects.filter(resident_id=OuterRef("pk")))
    new = Resident.objects.filter(in_runs).exclude(counted)
    # Residents whose stage changed since the first day (an import with stages makes an event
    # for each): counted one by one, their events with them, as any edited resident is.
    after = dates.day_start(span.first + dt.timedelta(days=1))
    with_events = list(
        StageEvent.objects.filter(at__gte=after, resident__in=new)
        .values_list("resident_id", flat=True)
        .distinct()
    )
    if with_events:
        recount_residents(state, with_events, [])
    # Everyone else, set-based: their stocks from the day each is eligible, the claims their
    # stage already supports, their snapshots.
    diffs: Diffs = {}
    count_stocks(new.filter(deceased=False, moved_out=False), "eid_stage", "eid_level", span, diffs)
    claimed = VisitOutcome.objects.filter(
        resident_id=OuterRef("pk"), claimed_stage__in=list(CLAIM_CODES)
    )
    flips = [
        Flip(rid, 0, STAGE_CODES[stage])
        for rid, stage in new.exclude(eid_stage="none")
        .filter(Exists(claimed))
        .values_list("id", "eid_stage")
    ]
    write_stocks(diffs, span.last)
    _snapshots_copy_new(runs)
    if flips:
        flip_claims(flips, span)


def _snapshots_copy_new(runs: list[list[int]]) -> None:
    """Snapshot the residents of these id runs the snapshot does not have yet, as they are in
    the residents table (no stage events since the first day: see _count_new)."""
    qn = connection.ops.quote_name
    snapshots = qn(ResidentSnapshot._meta.db_table)
    in_runs = " OR ".join(["r.id BETWEEN %s AND %s"] * len(runs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {snapshots} ({', '.join(SNAPSHOT_COLUMNS)}) "
            f"SELECT {SNAPSHOT_OF_RESIDENT}, 0 FROM {qn(Resident._meta.db_table)} r "
            f"WHERE ({in_runs}) "
            f"AND NOT EXISTS (SELECT 1 FROM {snapshots} s WHERE s.resident_id = r.id)",
            [v for run in runs for v in run],
        )
