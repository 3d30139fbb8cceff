"""The rollups' state row: which days and age they hold, its lock, the roll to a new day, and
what readers are told about how current the rows are.

Every rollup write takes the single `RollupState` row lock, so concurrent writers (a fold, a
catch-up, a rebuild) serialise on the rollups only, briefly, inside their own transactions.
Readers never take it and never write: they read the rows and the state as the worker left
them (a read replica could serve them)."""

import datetime as dt

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Count

from gocua.changes.models import ChangedResident, PendingResidents, PendingVisit
from gocua.lib.rows import Columns
from gocua.reports.models import ResidentSnapshot, RollupState
from gocua.reports.rollups import dates
from gocua.reports.rollups.rows import write_stocks
from gocua.reports.rollups.stocks import Diffs, Span, add_into, stock_vector

_STATE = Columns(RollupState, "s")
# What is still waiting for the worker, in one query: visits, residents an import inserted
# (and since when), residents edited. The visits are counted up to a cap: a reader needs "a
# few" or "many", not a scan of a long queue.
WAITING_CAP = 10_000
_WAITING_SQL = (
    f'SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM "{PendingVisit._meta.db_table}" '
    f"LIMIT {WAITING_CAP}) v), "
    f'(SELECT SUM("last_id" - "first_id" + 1) FROM "{PendingResidents._meta.db_table}"), '
    f'(SELECT MIN("queued_at") FROM "{PendingResidents._meta.db_table}"), '
    f'(SELECT COUNT(*) FROM (SELECT 1 FROM "{ChangedResident._meta.db_table}" '
    f"LIMIT {WAITING_CAP}) r)"
)


def span_of(state: RollupState) -> Span:
    return Span(state.first_day, state.day, state.min_age)


def locked_state(*, skip_locked: bool = False) -> RollupState | None:
    """The state row, locked for this transaction and rolled forward to today. None when the
    rollups are not built, or with `skip_locked` when another transaction holds the lock
    (SQLite has no row locks: its transactions already run one at a time).

    Every fold after a phone's post asks this: one hand-written query (see gocua.lib.rows)."""
    lock = ""
    if connection.features.has_select_for_update:
        lock = " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {_STATE.sql} FROM {_STATE.table} WHERE s."id" = 1{lock}')
        row = cursor.fetchone()
    state = _STATE.build(row) if row else None
    if state is not None and state.day < dates.today():
        roll(state, dates.today())
    return state


def roll(state: RollupState, to_day: dt.date) -> None:
    """Move to a new day: stocks carry over by themselves (a day's row holds only changes);
    the residents turning min_age that day join its denominator: a range query on the
    snapshots' birth dates, O(people having that birthday). Missing days roll one by one."""
    day = state.day
    while day < to_day:
        new_day = day + dt.timedelta(days=1)
        diffs: Diffs = {}
        turning = (
            ResidentSnapshot.objects.filter(
                active=True,
                birth_date__gt=dates.eligibility_cutoff(day, state.min_age),
                birth_date__lte=dates.eligibility_cutoff(new_day, state.min_age),
            )
            .values_list("unit_id", "stage", "level")
            .annotate(n=Count("resident_id"))
            .order_by()
        )
        for unit_id, stage, level, n in turning:
            add_into(diffs, (unit_id, new_day), stock_vector(stage, level), n)
        write_stocks(diffs, new_day)
        day = new_day
    state.day = to_day
    state.save(update_fields=["day"])


def folded(state: RollupState, at: dt.datetime) -> None:
    """The worker counted everything queued before `at`: readers say "figures as of" then."""
    state.folded_at = at
    RollupState.objects.filter(pk=state.pk).update(folded_at=at)


def rollup_state() -> RollupState | None:
    """The state for reads, read-only: None when the rollups were never built. It also says
    what the worker has not counted yet (`visits_waiting`, `residents_waiting` since
    `waiting_since`, `residents_edited`), for the page to say so. Two queries."""
    state = RollupState.objects.filter(pk=1).first()
    if state is None:
        return None
    # From the database the state came from (a replica's, on a dashboard): the queue then
    # matches the "figures as of" moment it is shown beside.
    with connections[state._state.db or DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(_WAITING_SQL)
        visits, waiting, since, edited = cursor.fetchone()
    state.visits_waiting = int(visits or 0)
    state.residents_waiting = int(waiting or 0)
    state.waiting_since = dates.as_datetime(since) if since is not None else None
    state.residents_edited = int(edited or 0)
    return state


def any_waiting() -> bool:
    """Visits or edited residents queued (the cheap check of the worker's every round)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1 FROM "{PendingVisit._meta.db_table}" UNION ALL '
            f'SELECT 1 FROM "{ChangedResident._meta.db_table}" LIMIT 1'
        )
        return cursor.fetchone() is not None
