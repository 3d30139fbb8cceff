"""Rollups: per-unit, per-day counts kept current as stage events and visits arrive.

What is stored
--------------
`UnitDay(unit, day)` holds, for the whole subtree of `unit`:
- in the stage columns (`st_none` .. `st_used`, `level2`), the *change* on `day` of the number
  of residents eligible that day, by confirmed stage: the stock on day D is the sum of the rows
  of days <= D (the first day's row is the opening stock). A resident imported today who counts
  over the whole series is one row (+1 on the first day), not one per day, and a new day costs
  nothing but the birthdays of that day;
- in the field columns, that day's flows: visits, distinct households reached, visits that met
  someone (`contacted`), claims made (by claimed stage) and how many of those claims the
  confirmed stage supports now (`confirmed_*`: it ranks at or above the claimed one).
Rows exist for the units that have something to count, *ancestors included*: a change on a
hamlet is written to the hamlet, its commune, district and province in the same statement.
That costs ~4x on writes (a chunk touches at most a few thousand rows, never one per
resident) and makes every read "sum the rows of the units shown": a dashboard is O(units shown
x days), independent of the number of residents. `MemberDay(member, day)` holds the same flows
per team member. A missing row means zeros.

What a day's stock means
------------------------
For a resident r and a day D in [first_day, last_day]:
  stage_r(D) = the current stage, minus the effect of every StageEvent dated after D
  (effective day = the event's local date, clamped into [first_day, last_day]);
  r counts on D if r is active (neither deceased nor moved out: today's flags apply to the
  whole series) and D >= eligible_from(birth_date, min_age).
Both the rebuild and the incremental path compute exactly this, so they agree by construction.

Keeping it current (O(changes), not O(residents))
-------------------------------------------------
`ResidentSnapshot` stores what the rollups last counted for each resident (unit, birth date,
active, stage, level, id of the last stage event seen). `rollup_residents_changed(ids)` —
called by the importers once per chunk, by the confirmation of a death or a move, by any
service that edits a resident — reads the residents and their stage events, compares with the snapshot, and writes
the difference of the two contributions as a few upserts (`INSERT .. ON CONFLICT DO UPDATE SET
x = x + excluded.x`, the same SQL on SQLite and PostgreSQL). Callers never compute deltas, so a
write path cannot get them wrong; calling it twice is harmless (the second call finds nothing
to do). `rollup_visits_recorded(visits)` only queues the visits (`PendingVisit`); `rollup_fold`
adds the queued visits' flows in batches — after a post's commit, before every read, nightly
(see "incremental: visits" below). Every rollup write takes the single `RollupState` row
lock, so concurrent writers (an import chunk, a fold) serialise on the rollups only, briefly,
inside their own transactions; a phone's post never waits for it.

Birthdays
---------
Someone turning `min_age` today joins today's denominator. On the first write or dashboard
read of a new day, the residents whose birth date lies in (cutoff(yesterday), cutoff(today)]
are added to today's row — a range query on the indexed `ResidentSnapshot.birth_date`, i.e.
O(people having that birthday), typically a few dozen in a province. Several missing days are
rolled one by one. `gocua rollup roll`, run from cron after midnight, does it ahead of the first
user and also re-reads the residents edited since its last run (`updated_at`): a safety net for
a write path that forgot the hook. Birth dates of 29 February become eligible on 1 March in
common years (the same rule as `eligibility_cutoff`).

Limits (by design, documented rather than hidden)
-------------------------------------------------
- The minimum age and the first day are fixed at build time: a campaign whose `min_age`
  changes needs `gocua rollup rebuild` (until then reads fall back to live queries, which are
  exact but O(residents)).
- A stage event dated in the future is counted today (clamped); a visit dated outside
  [first_day, today] is not counted.
- Deleting residents (not something GõCửa does) needs a rebuild: their stage history is gone.
- No `RollupState` row means the rollups were never built: writes skip them and reads use the
  live GROUP BY. `gocua rollup rebuild` (also run by `gocua generate`) builds them.
"""

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.module_loading import import_string

from gocua.geo.models import AdminUnit
from gocua.lib.bulk import (
    bulk_insert,
    db_uuid,
    execute_in,
    insert_rows,
    pg_array,
    select_in,
)
from gocua.lib.rows import Columns
from gocua.people.funnel import (
    DEFAULT_MIN_AGE,
    RANK_BY_CODE,
    STAGE_CODES,
    STAGE_NAMES,
    stages_at_least,
)
from gocua.reports.models import (
    FLOW_COLUMNS,
    MEMBER_COLUMNS,
    STOCK_COLUMNS,
    MemberDay,
    PendingResidents,
    PendingVisit,
    ResidentSnapshot,
    RollupState,
    StageRegression,
    UnitDay,
)
from gocua.worker.services import enqueue_after_commit, enqueue_once

LEAD_DAYS = 7  # rows start a week before the campaign, so the first week has a 7-day pace
LEVEL2 = 6  # index of the level-2 count in a stock vector
CLAIM_FLOW = {
    "registered": ("claims_registered", "confirmed_registered"),
    "activated": ("claims_activated", "confirmed_activated"),
    "used": ("claims_used", "confirmed_used"),
}
# The stages a claim can name, by their code.
CLAIM_CODES = {stage: STAGE_CODES[stage] for stage in CLAIM_FLOW}
NOT_HOME = "not_home"
_BATCH = 400


# --- dates ------------------------------------------------------------------------------------


def today() -> dt.date:
    """The counted day now (tests patch this)."""
    return timezone.localdate()


def eligibility_cutoff(on: dt.date, min_age: int) -> dt.date:
    """The latest birth date that is `min_age` years old on `on` (29 Feb → 28 Feb)."""
    try:
        return on.replace(year=on.year - min_age)
    except ValueError:
        return on.replace(year=on.year - min_age, day=28)


def eligible_from(birth: dt.date, min_age: int) -> dt.date:
    """The first day on which someone born on `birth` is `min_age` or more years old."""
    try:
        return birth.replace(year=birth.year + min_age)
    except ValueError:  # born 29 February, the birthday year is a common year
        return dt.date(birth.year + min_age, 3, 1)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _local_day(at: dt.datetime) -> dt.date:
    return timezone.localdate(at)


def current_min_age() -> int:
    """The minimum age the rollups count with: that of the current campaigns (each province
    runs one) when they agree, else the default. A province whose campaign counts from
    another age is read live (exact, O(its residents)) until they agree again."""
    from gocua.campaigns.models import Campaign

    ages = set(Campaign.objects.filter(is_current=True).values_list("min_age", flat=True))
    return ages.pop() if len(ages) == 1 else DEFAULT_MIN_AGE


def _default_first_day(last: dt.date) -> dt.date:
    """A week before the earliest current campaign starts (so its first week has a 7-day
    pace), or 60 days back without one."""
    from gocua.campaigns.models import Campaign

    starts = list(Campaign.objects.filter(is_current=True).values_list("start_date", flat=True))
    first = min(starts) - dt.timedelta(days=LEAD_DAYS) if starts else None
    if first is None or first > last:
        first = last - dt.timedelta(days=59)
    return first


# --- vectors --------------------------------------------------------------------------------


def _vec(stage: int, level: int) -> list[int]:
    v = [0] * 7
    v[stage] = 1
    if level == 2:
        v[LEVEL2] = 1
    return v


def _add(target: dict, key, vec: list[int], sign: int = 1) -> None:
    cur = target.get(key)
    if cur is None:
        target[key] = [sign * x for x in vec]
    else:
        for i, x in enumerate(vec):
            cur[i] += sign * x


def _contribution(
    state: tuple | None,
    events: list[tuple],
    *,
    first: dt.date,
    last: dt.date,
    min_age: int,
    out: dict,
    sign: int,
) -> None:
    """Add (sign=+1) or remove (-1) one resident's counts over [first, last] to `out`, as
    difference entries {(unit_id, day): vector from that day on}.

    state = (unit_id, birth_date, active, stage, level); events = (id, eff_day, from, to,
    from_level, to_level) with eff_day already clamped into [first, last]."""
    if state is None:
        return
    unit_id, birth, active, stage, level = state
    if not active:
        return
    start = max(eligible_from(birth, min_age), first)
    if start > last:
        return
    v0 = _vec(stage, level)
    steps = []
    for _id, eff, frm, to, frm_level, to_level in events:
        if eff > start:
            delta = [a - b for a, b in zip(_vec(to, to_level), _vec(frm, frm_level), strict=True)]
            steps.append((eff, delta))
            v0 = [a - b for a, b in zip(v0, delta, strict=True)]
    _add(out, (unit_id, start), v0, sign)
    for eff, delta in steps:
        _add(out, (unit_id, eff), delta, sign)


# --- writing rows ---------------------------------------------------------------------------


def _param_day(day: dt.date):
    return day.isoformat() if connection.vendor == "sqlite" else day


class _LocalDate(TruncDate):
    """TruncDate in the current time zone. On SQLite, Django's TruncDate calls back into
    Python once per row (seconds for a million events); a zone with one fixed offset over
    the dates involved (Asia/Ho_Chi_Minh: +07:00 since 1975) is SQLite's own date(x, '+N
    seconds') instead."""

    def as_sqlite(self, compiler, connection, **extra_context):
        zone = timezone.get_current_timezone()
        probe = [dt.datetime(year, month, 15, tzinfo=dt.UTC) for year in (1976, 2000, 2030)
                 for month in (1, 7)]  # fmt: skip
        offsets = {p.astimezone(zone).utcoffset() for p in probe}
        if len(offsets) != 1:
            return super().as_sqlite(compiler, connection, **extra_context)
        seconds = int(offsets.pop().total_seconds())
        sql, params = compiler.compile(self.lhs)
        return f"date({sql}, '{seconds:+d} seconds')", params


def _upsert_add(table: str, keys: list[str], columns: list[str], rows: list[tuple]) -> None:
    """INSERT the rows, or add their values to the existing row with the same keys."""
    if not rows:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in (*keys, *columns))
    sets = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + excluded.{qn(c)}" for c in columns)
    width = len(keys) + len(columns)
    one = "(" + ", ".join(["%s"] * width) + ")"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, an array per column (keys: an id and a day; values: counts):
            # VALUES lists of 400 rows cost the planner more than the upsert itself.
            types = ["bigint", "date", *["bigint"] * len(columns)]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO {qn(table)} ({names}) SELECT * FROM unnest({arrays}) "
                f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET {sets}",
                [pg_array(map(str, column)) for column in zip(*rows, strict=True)],
            )
            return
        for start in range(0, len(rows), _BATCH):
            part = rows[start : start + _BATCH]
            sql = (
                f"INSERT INTO {qn(table)} ({names}) VALUES {', '.join([one] * len(part))} "
                f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET {sets}"
            )
            params: list = []
            for row in part:
                params.extend(row)
            cursor.execute(sql, params)


# Chains read during a rollup_units_kept() block, by unit id. Never for longer: units are
# only added by `gocua units load`, but a test (or a rolled-back load) may give an id to
# another unit, and a stale chain would count residents into the wrong province.
_CHAINS: ContextVar[dict[int, list[int]] | None] = ContextVar("rollup_chains", default=None)


@contextmanager
def rollup_units_kept() -> Iterator[None]:
    """Within the block, each unit's chain of ancestors is read once: an import asks for the
    same thousand hamlets every chunk (two queries a chunk, 7% of an import)."""
    token = _CHAINS.set({})
    try:
        yield
    finally:
        _CHAINS.reset(token)


def _chains(unit_ids: Iterable[int]) -> dict[int, list[int]]:
    """{unit id: ids of the unit and all its ancestors} in two queries, fewer inside a
    rollup_units_kept() block."""
    kept = _CHAINS.get()
    if kept is None:
        return _chains_read(set(unit_ids))
    wanted = set(unit_ids)
    missing = wanted.difference(kept)
    if missing:
        kept.update(_chains_read(missing))
    return {uid: kept[uid] for uid in wanted if uid in kept}


def _chains_read(unit_ids: set[int]) -> dict[int, list[int]]:
    units = list(AdminUnit.objects.filter(id__in=unit_ids).values_list("id", "edition", "path"))
    codes: dict[int, set[str]] = defaultdict(set)
    for _id, edition, path in units:
        codes[edition].update(path.rstrip("/").split("/"))
    ids: dict[tuple[int, str], int] = {}
    for edition, wanted in codes.items():
        for code, uid in AdminUnit.objects.filter(edition=edition, code__in=wanted).values_list(
            "code", "id"
        ):
            ids[(edition, code)] = uid
    return {
        uid: [ids[(edition, c)] for c in path.rstrip("/").split("/") if (edition, c) in ids]
        for uid, edition, path in units
    }


def _write_stocks(diffs: dict[tuple[int, dt.date], list[int]], last: dt.date) -> int:
    """Add difference entries {(leaf unit, day): vector} to the day's change row of the unit
    and of each of its ancestors. Returns the number of rows written."""
    if not diffs:
        return 0
    chains = _chains({u for u, _d in diffs})
    expanded: dict[tuple[int, dt.date], list[int]] = {}
    for (leaf, day), vec in diffs.items():
        if day > last:
            raise ValueError(f"a change dated {day} after the last day {last}")
        if any(vec):
            for uid in chains.get(leaf, ()):
                _add(expanded, (uid, day), vec)
    as_text = connection.vendor == "sqlite"
    rows = [
        (uid, day.isoformat() if as_text else day, *vec)
        for (uid, day), vec in expanded.items()
        if any(vec)
    ]
    _upsert_add(UnitDay._meta.db_table, ["unit_id", "day"], STOCK_COLUMNS, rows)
    return len(rows)


def _write_unit_flows(flows: dict[tuple[int, dt.date], dict[str, int]]) -> None:
    if not flows:
        return
    chains = _chains({u for u, _d in flows})
    expanded: dict[tuple[int, dt.date], list[int]] = {}
    for (leaf, day), values in flows.items():
        vec = [values.get(c, 0) for c in FLOW_COLUMNS]
        for uid in chains.get(leaf, ()):
            _add(expanded, (uid, day), vec)
    rows = [(u, _param_day(d), *v) for (u, d), v in expanded.items() if any(v)]
    _upsert_add(UnitDay._meta.db_table, ["unit_id", "day"], FLOW_COLUMNS, rows)


def _write_member_flows(flows: dict[tuple[int, dt.date], dict[str, int]]) -> None:
    rows = [
        (m, _param_day(d), *(v.get(c, 0) for c in MEMBER_COLUMNS))
        for (m, d), v in flows.items()
        if any(v.values())
    ]
    _upsert_add(MemberDay._meta.db_table, ["member_id", "day"], MEMBER_COLUMNS, rows)


# --- the state row, and rolling to a new day ---------------------------------------------------


_STATE = Columns(RollupState, "s")


def _locked_state(*, skip_locked: bool = False) -> RollupState | None:
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
    if state is not None and state.day < today():
        _roll(state, today())
    return state


def _roll(state: RollupState, to_day: dt.date) -> None:
    """Move to a new day: stocks carry over by themselves (a day's row holds only changes);
    the residents turning min_age that day join its denominator."""
    day = state.day
    while day < to_day:
        new_day = day + dt.timedelta(days=1)
        diffs: dict = {}
        turning = (
            ResidentSnapshot.objects.filter(
                active=True,
                birth_date__gt=eligibility_cutoff(day, state.min_age),
                birth_date__lte=eligibility_cutoff(new_day, state.min_age),
            )
            .values_list("unit_id", "stage", "level")
            .annotate(n=Count("resident_id"))
            .order_by()
        )
        for unit_id, stage, level, n in turning:
            _add(diffs, (unit_id, new_day), _vec(stage, level), n)
        _write_stocks(diffs, new_day)
        day = new_day
    state.day = to_day
    state.save(update_fields=["day"])


def rollup_roll(*, sweep: bool = True) -> tuple[dt.date | None, int]:
    """Roll the rollups forward to today (idempotent), and with `sweep` re-read the residents
    edited since the last sweep (`updated_at`): a nightly safety net for any write path that
    did not call rollup_residents_changed — a scan of the residents table, so it belongs in a
    cron job (`gocua rollup roll`), not in a request. Returns (last day, residents changed);
    (None, 0) when the rollups were never built."""
    from gocua.people.models import Resident

    with transaction.atomic():
        state = _locked_state()
        if state is None:
            if not RollupState.objects.exists() and _has_residents():
                # Invalidated (e.g. the campaign's start date changed): rebuild tonight.
                summary = rollup_rebuild()
                return summary["day"], summary["residents"]
            return None, 0
        _fold(state)
        changed = 0
        if sweep:
            now = timezone.now()
            since = state.swept_at or state.built_at
            ids = list(Resident.objects.filter(updated_at__gte=since).values_list("id", flat=True))
            for start in range(0, len(ids), 5000):
                changed += _sync_residents(state, ids[start : start + 5000], [])
            state.swept_at = now
            state.save(update_fields=["swept_at"])
        return state.day, changed


def _has_residents() -> bool:
    from gocua.people.models import Resident

    return Resident.objects.exists()


def rollup_inputs_changed() -> bool:
    """A campaign became current, or a current one changed its start date or minimum age: if
    the rollups were built for another minimum age, or from a later first day than the
    campaigns now need, mark them stale and queue their rebuild (after the caller commits).
    Until it finishes, reads keep answering from the old rows, saying "recounting, figures as
    of" then. Cheap, so it runs inside a page's request. Returns whether a rebuild was queued."""
    state = RollupState.objects.filter(pk=1).first()
    if state is not None:
        needed_first = _default_first_day(max(state.day, today()))
        if state.min_age == current_min_age() and state.first_day <= needed_first:
            return False
        if state.stale_since is None:
            RollupState.objects.filter(pk=1).update(stale_since=timezone.now())
    enqueue_after_commit("gocua.reports.tasks.rollup_rebuild")
    return True


def rollup_maintain() -> str:
    """Keep the rollups existing and current (the worker runs this every few seconds):
    queue a rebuild when they are missing while residents exist (an upgrade) or stale (a
    campaign change); build them empty on an installation without residents; otherwise roll
    to a new day and count the visits posts have queued. Returns what it did."""
    state = RollupState.objects.filter(pk=1).first()
    if state is None and not _has_residents():
        rollup_rebuild()  # nothing to count: instant
        return "built"
    if state is None or state.stale_since is not None:
        enqueue_after_commit("gocua.reports.tasks.rollup_rebuild")
        return "rebuild queued"
    did = "current"
    if PendingResidents.objects.exists():  # an import's worker died before counting them
        enqueue_after_commit("gocua.reports.tasks.rollup_catch_up")
        did = "catch-up queued"
    if state.day < today() or _any_pending():
        with transaction.atomic():
            locked = _locked_state(skip_locked=True)
            if locked is not None:
                _fold(locked)
        return "folded"
    return did


def rollup_state() -> RollupState | None:
    """The state for reads: every read of the rollups starts here. Rolled to today first when a
    new day has begun (the roll is O(units) once a day), and the queued visits folded first
    (O(queued)), so a page never shows counts without the visits already recorded: two cheap
    queries per read. The state also says how many new residents an import queued that are
    not counted yet (`residents_waiting`, since `waiting_since`), for the page to say so."""
    state = RollupState.objects.filter(pk=1).first()
    if state is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_QUEUES_SQL)
        visits, waiting, since = cursor.fetchone()
    if state.day < today() or visits:
        with transaction.atomic():
            state = _locked_state()
            if state is not None:
                _fold(state)
    if state is not None:
        state.residents_waiting = int(waiting or 0)
        state.waiting_since = _as_datetime(since) if since is not None else None
    return state


def _any_pending() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_ANY_PENDING_SQL)
        return cursor.fetchone() is not None


# --- incremental: residents ------------------------------------------------------------------


def rollup_residents_changed(
    *, resident_ids: Iterable[int] = (), national_ids: Iterable[str] = ()
) -> int:
    """Bring the rollups up to date for these residents (new, edited or with new stage events).

    Called inside the caller's transaction, once per import chunk / visit / edit. Idempotent:
    it compares with what it counted before, so a resident with no change costs one row read.
    Returns how many residents changed the counts. A no-op until the rollups are built."""
    resident_ids, national_ids = list(resident_ids), list(national_ids)
    if not resident_ids and not national_ids:
        return 0
    with transaction.atomic():
        state = _locked_state()
        if state is None:
            return 0
        return _sync_residents(state, resident_ids, national_ids)


def _count_stocks(rows, stage: str, level: str, *, first, last, min_age, out: dict) -> None:
    """Add to `out` the stocks of these people (active residents, or their snapshots) from the
    first day each is eligible, grouped in the database by (unit, birth bucket, stage, level):
    the rebuild and the catch-up of new residents count alike."""
    c_first = eligibility_cutoff(first, min_age)
    c_last = eligibility_cutoff(last, min_age)
    bucket = Case(
        When(birth_date__lte=c_first, then=Value(c_first)),
        default=F("birth_date"),
        output_field=DateField(),
    )
    level2 = Case(When(**{level: 2}, then=1), default=0, output_field=IntegerField())
    for unit_id, b, code, l2, n in (
        rows.filter(birth_date__lte=c_last)
        .annotate(b=bucket, l2=level2)
        .values_list("unit_id", "b", stage, "l2")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        start = first if b <= c_first else eligible_from(b, min_age)
        code = STAGE_CODES[code] if isinstance(code, str) else code
        _add(out, (unit_id, start), _vec(code, 2 if l2 else 0), n)


# --- incremental: residents an import inserted -------------------------------------------------
#
# An import inserts thousands of residents a chunk. Counting each one in the chunk (read the
# rows back, diff against no snapshot, write a snapshot row each) cost an import of 300,000
# people 60% of its time. Instead a chunk queues the runs of ids it inserted (PendingResidents,
# one INSERT, no lock) and `rollup_catch_up` counts many chunks' residents at once with a GROUP
# BY and one INSERT .. SELECT of their snapshots: the worker does it while the import goes on,
# and the import itself drains what is left at its end, so an import that has returned has
# been counted.

CATCH_UP_BATCH = 100_000


def rollup_residents_added(resident_ids: Iterable[int]) -> None:
    """Residents this transaction inserted: queued to be counted by rollup_catch_up (the worker
    is asked to, after the commit). A no-op until the rollups are built: a rebuild counts
    everyone."""
    from gocua.lib.ranges import compress

    runs = compress(resident_ids)
    if not runs or not RollupState.objects.filter(pk=1).exists():
        return
    PendingResidents.objects.bulk_create(
        [PendingResidents(first_id=first, last_id=last) for first, last in runs]
    )
    enqueue_after_commit("gocua.reports.tasks.rollup_catch_up")


def rollup_catch_up() -> int:
    """Count every queued new resident, in transactions of up to CATCH_UP_BATCH people (the
    lock is held one batch at a time, so phones' folds and page reads pass in between).
    Returns how many residents were counted."""
    total = 0
    while True:
        with transaction.atomic():
            counted = _catch_up_batch()
        if counted is None:
            return total
        total += counted


def _catch_up_batch() -> int | None:
    """One batch, in the caller's transaction; None when nothing was queued.

    Under the state's lock nothing else writes snapshots, and every path that edits a resident
    asks the rollups (and so waits for this lock) before it commits: the residents read by the
    GROUP BY and by the INSERT .. SELECT below are the same."""
    from gocua.fieldwork.models import VisitOutcome
    from gocua.lib.ranges import merge
    from gocua.people.models import Resident, StageEvent

    state = _locked_state()
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
    runs = merge((a, b) for _id, a, b in taken)
    in_runs = Q()
    for first_id, last_id in runs:
        in_runs |= Q(id__range=(first_id, last_id))
    counted = Exists(ResidentSnapshot.objects.filter(resident_id=OuterRef("pk")))
    new = Resident.objects.filter(in_runs).exclude(counted)
    first, last, min_age = state.first_day, state.day, state.min_age

    # Residents whose stage changed since the first day (an import with stages makes an event
    # for each): counted one by one, their events with them, as any edited resident is.
    after = _day_start(first + dt.timedelta(days=1))
    with_events = list(
        StageEvent.objects.filter(at__gte=after, resident__in=new)
        .values_list("resident_id", flat=True)
        .distinct()
    )
    if with_events:
        _sync_residents(state, with_events, [])
    # Everyone else, set-based: their stocks from the day each is eligible, the claims their
    # stage already supports, their snapshots.
    diffs: dict = {}
    _count_stocks(new.filter(deceased=False, moved_out=False), "eid_stage", "eid_level",
                  first=first, last=last, min_age=min_age, out=diffs)  # fmt: skip
    claimed = VisitOutcome.objects.filter(
        resident_id=OuterRef("pk"), claimed_stage__in=list(CLAIM_CODES)
    )
    flips = [
        (rid, 0, STAGE_CODES[stage])
        for rid, stage in new.exclude(eid_stage="none")
        .filter(Exists(claimed))
        .values_list("id", "eid_stage")
    ]
    _write_stocks(diffs, last)
    _snapshots_copy_new(runs)
    if flips:
        _flip_claims(flips, first, last)
    PendingResidents.objects.filter(id__in=[row[0] for row in taken]).delete()
    return size


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)  # SQLite: UTC text


_VISITS_SQL = (
    'SELECT v."id", v."household_id", h."unit_id", v."member_id", v."at" FROM "{visits}" v '
    'JOIN "people_household" h ON h."id" = v."household_id" WHERE v."id" {{in_}}'
)
_OUTCOMES_SQL = (
    'SELECT "visit_id", "resident_id", "outcome", "claimed_stage" FROM "{outcomes}" '
    'WHERE "visit_id" {{in_}}'
)
# "Not queued" is NOT IN, never NOT EXISTS: the queue is filled and emptied all day, so its
# planner statistics say it is empty, and PostgreSQL planned NOT EXISTS as a nested loop over
# the whole queue for every visit (12 ms a fold with 114 queued, growing with both); NOT IN
# hashes the queue once (hashed SubPlan, 2 ms). visit_id is never NULL, so the two agree.
_NOT_QUEUED = '"id" NOT IN (SELECT "visit_id" FROM "reports_pendingvisit")'
_REACHED_SQL = (  # who reached which of these households in a time window, folded visits only
    'SELECT DISTINCT v."household_id", v."member_id" FROM "{visits}" v '
    'WHERE v."at" >= %s AND v."at" < %s AND v."household_id" {{in_}} AND v.' + _NOT_QUEUED
)
_SNAPSHOT_STAGES_SQL = (
    "SELECT resident_id, stage FROM reports_residentsnapshot WHERE resident_id {in_}"
)
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
_SNAPSHOT_UPSERT = (
    "INSERT INTO reports_residentsnapshot "
    "(resident_id, unit_id, birth_date, active, stage, level, last_event_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (resident_id) DO UPDATE SET "
    "unit_id = excluded.unit_id, birth_date = excluded.birth_date, active = excluded.active, "
    "stage = excluded.stage, level = excluded.level, last_event_id = excluded.last_event_id"
)


_SNAPSHOT_COLUMNS = [
    "resident_id", "unit_id", "birth_date", "active", "stage", "level", "last_event_id",
]  # fmt: skip
_SNAPSHOT_UPSERT_PG = (
    "INSERT INTO reports_residentsnapshot "
    "(resident_id, unit_id, birth_date, active, stage, level, last_event_id) "
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::boolean[], "
    "%s::smallint[], %s::smallint[], %s::bigint[]) "
    "ON CONFLICT (resident_id) DO UPDATE SET "
    "unit_id = excluded.unit_id, birth_date = excluded.birth_date, active = excluded.active, "
    "stage = excluded.stage, level = excluded.level, last_event_id = excluded.last_event_id"
)


def _snapshots_copy(resident_ids: list[int]) -> None:
    """Snapshot residents new to the rollups, without stage events, as they are in the
    residents table: one INSERT .. SELECT, the database copying its own rows (an import
    chunk's 5,000 formatted and sent from here cost a tenth of the import)."""
    from gocua.people.models import Resident

    qn = connection.ops.quote_name
    stage_case = " ".join(f"WHEN '{name}' THEN {code}" for name, code in STAGE_CODES.items())
    execute_in(
        f"INSERT INTO {qn(ResidentSnapshot._meta.db_table)} ({', '.join(_SNAPSHOT_COLUMNS)}) "
        "SELECT r.id, r.unit_id, r.birth_date, "
        "CASE WHEN r.deceased OR r.moved_out THEN FALSE ELSE TRUE END, "
        f"CASE r.eid_stage {stage_case} END, r.eid_level, 0 "
        f"FROM {qn(Resident._meta.db_table)} r WHERE r.id {{in_}}",
        resident_ids,
    )


def _snapshots_copy_new(runs: list[list[int]]) -> None:
    """Snapshot the residents of these id runs the snapshot does not have yet, as they are in
    the residents table (no stage events since the first day: see _catch_up_batch)."""
    from gocua.people.models import Resident

    qn = connection.ops.quote_name
    snapshots = qn(ResidentSnapshot._meta.db_table)
    stage_case = " ".join(f"WHEN '{name}' THEN {code}" for name, code in STAGE_CODES.items())
    in_runs = " OR ".join(["r.id BETWEEN %s AND %s"] * len(runs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {snapshots} ({', '.join(_SNAPSHOT_COLUMNS)}) "
            "SELECT r.id, r.unit_id, r.birth_date, "
            "CASE WHEN r.deceased OR r.moved_out THEN FALSE ELSE TRUE END, "
            f"CASE r.eid_stage {stage_case} END, r.eid_level, 0 "
            f"FROM {qn(Resident._meta.db_table)} r WHERE ({in_runs}) "
            f"AND NOT EXISTS (SELECT 1 FROM {snapshots} s WHERE s.resident_id = r.id)",
            [v for run in runs for v in run],
        )


def _snapshots_write(rows: list[tuple]) -> None:
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


def _sync_residents(state: RollupState, resident_ids: list[int], national_ids: list[str]) -> int:
    first, last, min_age = state.first_day, state.day, state.min_age
    now_rows: dict[int, tuple] = {}
    found = select_in(_RESIDENTS_SQL.format(column="id"), resident_ids)
    found += select_in(_RESIDENTS_SQL.format(column="national_id"), national_ids)
    for rid, unit_id, birth, deceased, moved, stage, level in found:
        now_rows[rid] = (
            unit_id, _as_date(birth), not (deceased or moved), STAGE_CODES[stage], level,
        )  # fmt: skip
    ids = sorted(set(resident_ids) | set(now_rows))
    snaps: dict[int, tuple] = {}
    for rid, unit_id, birth, active, stage, level, seen in select_in(_SNAPSHOTS_SQL, ids):
        snaps[rid] = ((unit_id, _as_date(birth), bool(active), stage, level), seen)
    events: dict[int, list[tuple]] = defaultdict(list)
    after = connection.ops.adapt_datetimefield_value(_day_start(first + dt.timedelta(days=1)))
    for eid, rid, at, frm, to, frm_level, to_level in select_in(_EVENTS_SQL, ids, (after,)):
        at = _as_datetime(at)
        eff = min(max(_local_day(at), first), last)
        events[rid].append((eid, eff, STAGE_CODES[frm], STAGE_CODES[to], frm_level, to_level, at))

    diffs: dict = {}
    changed = 0
    upserts: list[tuple] = []
    inserts: list[tuple] = []  # residents the snapshot does not have yet
    # New residents without stage events (nearly every row of an import): counted by
    # (unit, first day counted, stage, level) and added once each, not one vector per person.
    plain: dict[tuple, int] = defaultdict(int)
    plain_ids: list[int] = []
    starts: dict[dt.date, dt.date] = {}
    gone: list[int] = []
    flips: list[tuple[int, int, int]] = []
    regressions: list[StageRegression] = []
    moved_units: list[tuple[int, int]] = []
    for rid in ids:
        new = now_rows.get(rid)
        old, seen = snaps.get(rid, (None, 0))
        evs = events.get(rid, [])
        fresh = [e for e in evs if e[0] > seen]
        if old == new and not fresh:
            continue
        changed += 1
        if old is None and not evs and new is not None:
            unit_id, birth, active, stage, level = new
            plain_ids.append(rid)
            if stage != 0:
                flips.append((rid, 0, stage))
            if not active:
                continue
            start = starts.get(birth)
            if start is None:
                start = starts[birth] = max(eligible_from(birth, min_age), first)
            if start <= last:
                plain[(unit_id, start, stage, level)] += 1
            continue
        _contribution(old, [e[:6] for e in evs if e[0] <= seen], first=first, last=last,
                      min_age=min_age, out=diffs, sign=-1)  # fmt: skip
        _contribution(new, [e[:6] for e in evs], first=first, last=last, min_age=min_age,
                      out=diffs, sign=1)  # fmt: skip
        if new is None:
            gone.append(rid)
            continue
        snapshot = (rid, new[0], new[1], new[2], new[3], new[4], max([seen, *(e[0] for e in evs)]))
        if old is None:
            inserts.append((*snapshot[:2], new[1].isoformat(), *snapshot[3:]))
        else:
            upserts.append(snapshot)
        if (old[3] if old is not None else 0) != new[3]:
            # New to the snapshot: a claim folded before it was there was judged as "none".
            flips.append((rid, old[3] if old is not None else 0, new[3]))
        if old is not None and old[0] != new[0]:
            moved_units.append((rid, new[0]))
        for eid, _eff, frm, to, _fl, _tl, at in fresh:
            if RANK_BY_CODE[to] < RANK_BY_CODE[frm]:
                regressions.append(
                    StageRegression(
                        event_id=eid, resident_id=rid, unit_id=new[0], at=at,
                        from_stage=STAGE_NAMES[frm], to_stage=STAGE_NAMES[to],
                    )
                )  # fmt: skip
    if not changed:
        return 0
    for (unit_id, start, stage, level), n in plain.items():
        _add(diffs, (unit_id, start), _vec(stage, level), n)
    _write_stocks(diffs, last)
    if plain_ids:
        _snapshots_copy(plain_ids)
    if inserts:
        bulk_insert(ResidentSnapshot._meta.db_table, _SNAPSHOT_COLUMNS, inserts)
    if upserts:
        _snapshots_write(upserts)
    if gone:
        ResidentSnapshot.objects.filter(resident_id__in=gone).delete()
    for rid, unit_id in moved_units:
        StageRegression.objects.filter(resident_id=rid).update(unit_id=unit_id)
    if regressions:
        StageRegression.objects.bulk_create(regressions, batch_size=1000, ignore_conflicts=True)
    if flips:
        _flip_claims(flips, first, last)
    return changed


def _flip_claims(flips: list[tuple[int, int, int]], first: dt.date, last: dt.date) -> None:
    """A confirmed stage changed: claims it now supports (or no longer supports) move. Claims
    of queued visits are left alone: their fold judges them against the stage it finds."""
    from gocua.fieldwork.models import VisitOutcome

    queued = PendingVisit.objects.values("visit_id")  # NOT IN, as in _NOT_QUEUED

    by_resident = {rid: (old, new) for rid, old, new in flips}
    unit_flows: dict = defaultdict(lambda: defaultdict(int))
    member_flows: dict = defaultdict(lambda: defaultdict(int))
    ids = list(by_resident)
    for start in range(0, len(ids), 5000):
        for rid, claimed, at, member_id, unit_id in (
            VisitOutcome.objects.filter(
                ~Q(visit_id__in=queued),
                resident_id__in=ids[start : start + 5000],
                claimed_stage__in=list(CLAIM_CODES),
            )
            .values_list("resident_id", "claimed_stage", "visit__at", "visit__member_id",
                         "visit__household__unit_id")
        ):  # fmt: skip
            day = _local_day(at)
            if not first <= day <= last:
                continue
            old, new = by_resident[rid]
            need = RANK_BY_CODE[CLAIM_CODES[claimed]]
            step = int(RANK_BY_CODE[new] >= need) - int(RANK_BY_CODE[old] >= need)
            if step:
                unit_flows[(unit_id, day)][CLAIM_FLOW[claimed][1]] += step
                if member_id is not None:
                    member_flows[(member_id, day)]["confirmed"] += step
    _write_unit_flows(unit_flows)
    _write_member_flows(member_flows)


# --- incremental: visits ---------------------------------------------------------------------
#
# Recording a visit only queues it (PendingVisit, one INSERT in the post's transaction). The
# counting happens in `rollup_fold`, under the rollups' lock, for every queued visit at once:
# after a post's commit (at most every FOLD_EVERY seconds per worker process, and only if no
# other transaction is folding), before every read (`rollup_state`), and in the nightly roll.
# A phone's post therefore neither waits for the lock nor updates the province's day row, and
# a fold of a few hundred visits costs about what one visit did. Exactness rests on two rules:
# - a fold reads a queued visit's claims against the confirmed stage *at the fold*, and a
#   stage change found before that (`_flip_claims`) skips queued visits: each claim is judged
#   once;
# - "households reached" counts a household the first time a *folded* visit reaches it that
#   day: visits still queued are not "earlier" (they will see this fold's visits when theirs
#   comes), so the order of folds does not matter.

FOLD_EVERY = 0.5  # seconds between the folds a worker process starts after a post
POST_FOLD = 1000  # visits at most that a post folds after its commit (its phone waits for it)
_FOLD_CHUNK = 2000
_next_fold = 0.0

_PENDING_SQL = f'SELECT "visit_id" FROM "{PendingVisit._meta.db_table}" LIMIT %s'
_DEQUEUE_SQL = (
    f'DELETE FROM "{PendingVisit._meta.db_table}" WHERE "visit_id" {{in_}} RETURNING "visit_id"'
)
_ANY_PENDING_SQL = f'SELECT 1 FROM "{PendingVisit._meta.db_table}" LIMIT 1'
_QUEUES_SQL = (
    f"SELECT EXISTS ({_ANY_PENDING_SQL}), "
    f'(SELECT SUM("last_id" - "first_id" + 1) FROM "{PendingResidents._meta.db_table}"), '
    f'(SELECT MIN("queued_at") FROM "{PendingResidents._meta.db_table}")'
)


def rollup_visits_recorded(visits: Iterable) -> int:
    """Queue newly created visits (objects or their UUIDs) for the rollups. Call once per
    created visit, in the transaction that created it (visits_record's `_after_visits` does).
    One INSERT; `rollup_fold` counts them, after the commit. Returns how many were queued."""
    ids = [getattr(v, "pk", v) for v in visits]
    if not ids:
        return 0
    # Queued even while the rollups are not built: a rebuild empties the queue under a table
    # lock, so a visit committed during a first build is either counted by it or still queued.
    insert_rows(PendingVisit._meta.db_table, ["visit_id"], [(db_uuid(i),) for i in ids])
    # robust: the visits are committed whatever the fold does; the phone must get its answer.
    transaction.on_commit(_fold_soon, robust=True)
    return len(ids)


def _fold_soon() -> None:
    """After a post's commit: queue a fold for the worker (gocua.reports.tasks.rollup_fold),
    at most once every FOLD_EVERY seconds per process, and not when one is already waiting.
    The phone's answer never waits for the counting."""
    global _next_fold
    now = time.monotonic()
    if now < _next_fold:
        return
    _next_fold = now + FOLD_EVERY
    enqueue_once(import_string("gocua.reports.tasks.rollup_fold"))


def rollup_fold(*, wait: bool = True, limit: int | None = None) -> int:
    """Count the queued visits in the rollups (flows, households reached, claims) and take them
    off the queue: all of them, or at most `limit`. `wait=False` returns at once when another
    transaction holds the rollups' lock. Returns how many visits were taken off. Nothing
    happens until the rollups are built (`rollup_rebuild` counts every visit and empties the
    queue)."""
    with transaction.atomic():
        state = _locked_state(skip_locked=not wait)
        return _fold(state, limit) if state is not None else 0


def _fold(state: RollupState, limit: int | None = None) -> int:
    """Fold the queued visits, a chunk at a time; the caller holds the state's lock.

    Without a limit it stops at the first chunk that is not full: the visits queued while it
    works wait for the next fold. Looping until the queue was empty never ended while phones
    kept posting: one transaction folded a few visits at a time for minutes, and every reader
    waited for it."""
    folded = 0
    chunk = min(_FOLD_CHUNK, limit or _FOLD_CHUNK)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_PENDING_SQL, [chunk])
            keys = [row[0] for row in cursor.fetchall()]
        if keys:
            _fold_visits(state, keys)
            folded += len(keys)
        if len(keys) < chunk or (limit is not None and folded >= limit):
            return folded


def _fold_visits(state: RollupState, keys: list) -> None:
    """Add these queued visits (database values of their ids) to the rollups and take them
    off the queue.

    Hand-written reads with one array parameter (lib.bulk.select_in), not prepared: prepared,
    they kept the plan of the tables' first minutes (a scan of every outcome)."""
    from gocua.fieldwork.models import Visit, VisitOutcome

    first, last = state.first_day, state.day
    zone = timezone.get_current_timezone()  # once: localdate() looks it up on every call

    def local_day(at) -> dt.date:
        return _as_datetime(at).astimezone(zone).date()

    rows = [
        (vid, household_id, unit_id, member_id, local_day(at))
        for vid, household_id, unit_id, member_id, at in select_in(
            _VISITS_SQL.format(visits=Visit._meta.db_table), keys, prepared=False
        )
    ]
    outcomes: dict = defaultdict(list)
    for visit_id, resident_id, outcome, claimed in select_in(
        _OUTCOMES_SQL.format(outcomes=VisitOutcome._meta.db_table), keys, prepared=False
    ):
        outcomes[visit_id].append((resident_id, outcome, claimed))
    residents = sorted({r for items in outcomes.values() for r, _o, _c in items})
    # Claims are judged against the confirmed stage the rollups count (the snapshot): every
    # write path that changes a stage updates the snapshot (rollup_residents_changed) and moves
    # the claims already folded (`_flip_claims`); one that forgot is caught by the nightly
    # sweep, which moves them too.
    stages = dict(select_in(_SNAPSHOT_STAGES_SQL, residents))
    counted = [r for r in rows if first <= r[4] <= last]
    # Households reached: a household counts once per day (and once per member per day); it is
    # new only if no visit folded earlier reached it that day. Asked day by day (a fold's
    # visits are nearly all of one day), while this batch is still queued: the queue is
    # what "not folded yet" means, for these visits and for those other posts queue meanwhile.
    seen_days: set[tuple] = set()  # (household, day) reached by a visit folded earlier
    seen_member_days: set[tuple] = set()  # (member, household, day)
    for day in sorted({r[4] for r in counted}):
        window = (
            connection.ops.adapt_datetimefield_value(_day_start(day)),
            connection.ops.adapt_datetimefield_value(_day_start(day + dt.timedelta(days=1))),
        )
        for household_id, member_id in select_in(
            _REACHED_SQL.format(visits=Visit._meta.db_table),
            sorted({r[1] for r in counted if r[4] == day}),
            window,
            prepared=False,
        ):
            seen_days.add((household_id, day))
            seen_member_days.add((member_id, household_id, day))
    select_in(_DEQUEUE_SQL, keys, prepared=False)
    if not counted:
        return
    unit_flows: dict = defaultdict(lambda: defaultdict(int))
    member_flows: dict = defaultdict(lambda: defaultdict(int))
    for vid, household_id, unit_id, member_id, day in counted:
        unit = unit_flows[(unit_id, day)]
        member = member_flows[(member_id, day)] if member_id is not None else defaultdict(int)
        unit["visits"] += 1
        member["visits"] += 1
        if (household_id, day) not in seen_days:
            seen_days.add((household_id, day))
            unit["households"] += 1
        if (member_id, household_id, day) not in seen_member_days:
            seen_member_days.add((member_id, household_id, day))
            member["households"] += 1
        items = outcomes.get(vid, [])
        if any(o != NOT_HOME for _r, o, _c in items):
            unit["contacted"] += 1
            member["contacted"] += 1
        for resident_id, _outcome, claimed in items:
            if claimed not in CLAIM_CODES:
                continue
            claims_col, confirmed_col = CLAIM_FLOW[claimed]
            unit[claims_col] += 1
            member["claims"] += 1
            if RANK_BY_CODE[stages.get(resident_id, 0)] >= RANK_BY_CODE[CLAIM_CODES[claimed]]:
                unit[confirmed_col] += 1
                member["confirmed"] += 1
    _write_unit_flows(unit_flows)
    _write_member_flows({k: v for k, v in member_flows.items() if k[0] is not None})


# --- rebuild ---------------------------------------------------------------------------------


def rollup_rebuild(*, edition: int | None = None, on: dt.date | None = None) -> dict:
    """Recompute every rollup from the source tables (residents, stage events, visits).

    One transaction; readers keep seeing the old rows until it commits. `edition` limits the
    work to the units of one edition (the other edition's rows are kept). Returns counts:
    {"residents", "unit_days", "member_days", "regressions", "first_day", "day", "min_age"}.
    """
    from gocua.fieldwork.models import Visit, VisitOutcome
    from gocua.people.models import Resident, StageEvent

    last = on or today()
    with transaction.atomic():
        _hold_queue()  # before the state's lock: a post queues visits, then folds
        min_age = current_min_age()
        state = RollupState.objects.select_for_update().filter(pk=1).first()
        first = _default_first_day(last)
        if edition is not None and (
            state is None or state.min_age != min_age or state.first_day != first
        ):
            # The minimum age and the first day are shared by both editions' rows: when they
            # change (a new campaign), everything is rebuilt.
            edition = None
        if edition is not None:
            last = max(last, state.day)
        units = AdminUnit.objects.filter(edition=edition) if edition is not None else None
        unit_ids = units.values("id") if units is not None else None
        _empty_queue(unit_ids)

        def scoped(qs, field):
            return qs.filter(**{f"{field}__in": unit_ids}) if unit_ids is not None else qs

        scoped(UnitDay.objects.all(), "unit_id").delete()
        scoped(MemberDay.objects.all(), "member__team__unit_id").delete()
        scoped(ResidentSnapshot.objects.all(), "unit_id").delete()
        if unit_ids is not None:
            # Residents deleted in bulk (`generate --replace`) leave snapshot rows behind.
            ResidentSnapshot.objects.exclude(resident_id__in=Resident.objects.values("id")).delete()
        scoped(StageRegression.objects.all(), "unit_id").delete()

        # New residents queued before the snapshots are filled are counted by the fill; any
        # queued later may be too, and the catch-up skips whoever has a snapshot.
        queued = PendingResidents.objects.aggregate(m=Max("id"))["m"]
        after = _day_start(first + dt.timedelta(days=1))
        _fill_snapshots(after, edition)
        if queued is not None and edition is None:
            PendingResidents.objects.filter(id__lte=queued).delete()

        # Stocks: current stages by unit and eligibility day, minus the events after each day.
        c_first = eligibility_cutoff(first, min_age)
        c_last = eligibility_cutoff(last, min_age)
        diffs: dict = {}

        def start_of(b: dt.date) -> dt.date:
            return first if b <= c_first else eligible_from(b, min_age)

        _count_stocks(
            scoped(ResidentSnapshot.objects.filter(active=True), "unit_id"), "stage", "level",
            first=first, last=last, min_age=min_age, out=diffs,
        )  # fmt: skip
        ev_bucket = Case(
            When(resident__birth_date__lte=c_first, then=Value(c_first)),
            default=F("resident__birth_date"),
            output_field=DateField(),
        )
        level2_of = {
            f: Case(When(**{f: 2}, then=1), default=0, output_field=IntegerField())
            for f in ("from_level", "to_level")
        }
        for unit_id, b, day, frm, to, fl2, tl2, n in (
            scoped(
                StageEvent.objects.filter(
                    at__gte=after, resident__deceased=False, resident__moved_out=False,
                    resident__birth_date__lte=c_last,
                ),
                "resident__unit_id",
            )
            .annotate(b=ev_bucket, d=_LocalDate("at"), fl2=level2_of["from_level"],
                      tl2=level2_of["to_level"])
            .values_list("resident__unit_id", "b", "d", "from_stage", "to_stage", "fl2", "tl2")
            .annotate(n=Count("id"))
            .order_by()
        ):  # fmt: skip
            start = start_of(b)
            eff = min(day, last)
            if eff <= start:
                continue
            delta = [
                a - c
                for a, c in zip(
                    _vec(STAGE_CODES[to], 2 if tl2 else 0),
                    _vec(STAGE_CODES[frm], 2 if fl2 else 0),
                    strict=True,
                )
            ]
            _add(diffs, (unit_id, start), delta, -n)
            _add(diffs, (unit_id, eff), delta, n)
        unit_days = _write_stocks(diffs, last)

        # Flows: visits by the household's unit and by member, on the visit's local day.
        lo, hi = _day_start(first), _day_start(last + dt.timedelta(days=1))
        visits = scoped(Visit.objects.filter(at__gte=lo, at__lt=hi), "household__unit_id")
        unit_flows: dict = defaultdict(lambda: defaultdict(int))
        member_flows: dict = defaultdict(lambda: defaultdict(int))
        met = Exists(VisitOutcome.objects.filter(visit=OuterRef("pk")).exclude(outcome=NOT_HOME))
        for unit_id, day, n, households in (
            visits.annotate(d=_LocalDate("at"))
            .values_list("household__unit_id", "d")
            .annotate(n=Count("id"), h=Count("household_id", distinct=True))
            .order_by()
        ):
            unit_flows[(unit_id, day)]["visits"] += n
            unit_flows[(unit_id, day)]["households"] += households
        for unit_id, day, n in (
            visits.filter(met)
            .annotate(d=_LocalDate("at"))
            .values_list("household__unit_id", "d")
            .annotate(n=Count("id"))
            .order_by()
        ):
            unit_flows[(unit_id, day)]["contacted"] += n
        for member_id, day, n, households in (
            visits.filter(member_id__isnull=False)
            .annotate(d=_LocalDate("at"))
            .values_list("member_id", "d")
            .annotate(n=Count("id"), h=Count("household_id", distinct=True))
            .order_by()
        ):
            member_flows[(member_id, day)]["visits"] += n
            member_flows[(member_id, day)]["households"] += households
        for member_id, day, n in (
            visits.filter(met, member_id__isnull=False)
            .annotate(d=_LocalDate("at"))
            .values_list("member_id", "d")
            .annotate(n=Count("id"))
            .order_by()
        ):
            member_flows[(member_id, day)]["contacted"] += n
        supported = Q()
        for claimed in CLAIM_CODES:
            supported |= Q(claimed_stage=claimed, resident__eid_stage__in=stages_at_least(claimed))
        for unit_id, member_id, day, claimed, ok, n in (
            scoped(
                VisitOutcome.objects.filter(
                    claimed_stage__in=list(CLAIM_CODES), visit__at__gte=lo, visit__at__lt=hi
                ),
                "visit__household__unit_id",
            )
            .annotate(
                d=_LocalDate("visit__at"),
                ok=Case(When(supported, then=1), default=0, output_field=IntegerField()),
            )
            .values_list("visit__household__unit_id", "visit__member_id", "d", "claimed_stage", "ok")
            .annotate(n=Count("id"))
            .order_by()
        ):  # fmt: skip
            claims_col, confirmed_col = CLAIM_FLOW[claimed]
            unit_flows[(unit_id, day)][claims_col] += n
            if ok:
                unit_flows[(unit_id, day)][confirmed_col] += n
            if member_id is not None:
                member_flows[(member_id, day)]["claims"] += n
                if ok:
                    member_flows[(member_id, day)]["confirmed"] += n
        _write_unit_flows(unit_flows)
        _write_member_flows(member_flows)

        # Regressions: confirmed stages that went backwards since the first day.
        backwards = Q(pk__in=[])
        for frm, fc in STAGE_CODES.items():
            lower = [to for to, tc in STAGE_CODES.items() if RANK_BY_CODE[tc] < RANK_BY_CODE[fc]]
            if lower:
                backwards |= Q(from_stage=frm, to_stage__in=lower)
        regressions = [
            StageRegression(event_id=eid, resident_id=rid, unit_id=uid, at=at, from_stage=frm,
                            to_stage=to)
            for eid, rid, uid, at, frm, to in scoped(
                StageEvent.objects.filter(backwards, at__gte=after), "resident__unit_id"
            ).values_list("id", "resident_id", "resident__unit_id", "at", "from_stage", "to_stage")
        ]  # fmt: skip
        StageRegression.objects.bulk_create(regressions, batch_size=2000)

        if state is None:
            state = RollupState(pk=1)
        state.first_day, state.day, state.min_age = first, last, min_age
        state.built_at = state.swept_at = timezone.now()
        state.stale_since = None
        state.save()
        return {
            "residents": scoped(ResidentSnapshot.objects.all(), "unit_id").count(),
            "unit_days": UnitDay.objects.count(),
            "member_days": MemberDay.objects.count(),
            "regressions": StageRegression.objects.count(),
            "unit_day_rows_written": unit_days,
            "first_day": first.isoformat(),
            "day": last.isoformat(),
            "min_age": min_age,
        }


def _hold_queue() -> None:
    """Hold the visit queue against new entries until the rebuild commits. On PostgreSQL the
    EXCLUSIVE lock waits for the posts that queued visits and have not committed yet (their
    visits become visible to the rebuild, which counts them and empties their queue rows) and
    makes later posts wait to queue theirs (their visits, invisible to the rebuild, stay
    queued and are folded after it). SQLite runs one write transaction at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(PendingVisit._meta.db_table)
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def _empty_queue(unit_ids) -> None:
    """Take off the queue the visits the rebuild counts from the source tables (those of its
    units, or all)."""
    from gocua.fieldwork.models import Visit

    queue = PendingVisit.objects.all()
    if unit_ids is not None:
        queue = queue.filter(
            visit_id__in=Visit.objects.filter(household__unit_id__in=unit_ids).values("id")
        )
    queue.delete()


def _fill_snapshots(after: dt.datetime, edition: int | None) -> None:
    """ResidentSnapshot := the residents as they are now, in one INSERT .. SELECT."""
    from gocua.people.models import Resident, StageEvent

    qn = connection.ops.quote_name
    stage_case = " ".join(f"WHEN '{name}' THEN {code}" for name, code in STAGE_CODES.items())
    where = ""
    params: list = [connection.ops.adapt_datetimefield_value(after)]
    if edition is not None:
        where = (
            f"WHERE r.unit_id IN (SELECT id FROM {qn(AdminUnit._meta.db_table)} WHERE edition = %s)"
        )
        params.append(edition)
    sql = (
        f"INSERT INTO {qn(ResidentSnapshot._meta.db_table)} "
        "(resident_id, unit_id, birth_date, active, stage, level, last_event_id) "
        "SELECT r.id, r.unit_id, r.birth_date, "
        "CASE WHEN r.deceased OR r.moved_out THEN FALSE ELSE TRUE END, "
        f"CASE r.eid_stage {stage_case} END, r.eid_level, COALESCE(e.m, 0) "
        f"FROM {qn(Resident._meta.db_table)} r LEFT JOIN ("
        f"SELECT resident_id, MAX(id) AS m FROM {qn(StageEvent._meta.db_table)} "
        "WHERE at >= %s GROUP BY resident_id) e ON e.resident_id = r.id "
        f"{where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
