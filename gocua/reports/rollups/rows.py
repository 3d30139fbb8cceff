"""Writing rollup rows: a change on a unit is added to its row and to each ancestor's.

The fenced fast path of the rollups: one upsert that adds to the existing row (`INSERT ..
ON CONFLICT DO UPDATE SET x = x + excluded.x`, the same SQL on SQLite and PostgreSQL)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models.functions import TruncDate
from django.utils import timezone

from gocua.geo.models import AdminUnit
from gocua.lib.bulk import pg_array
from gocua.reports.models import FLOW_COLUMNS, MEMBER_COLUMNS, STOCK_COLUMNS, MemberDay, UnitDay
from gocua.reports.rollups.stocks import Diffs, add_into

_BATCH = 400

# {(unit or member id, day): {column: count}}: a fold's field counts before they are written.
Flows = dict[tuple[int, dt.date], dict[str, int]]


def flows() -> Flows:
    """An empty Flows that reads missing counts as 0."""
    return defaultdict(lambda: defaultdict(int))


def param_day(day: dt.date):
    """A day as a parameter of hand-written SQL (SQLite compares dates as text)."""
    return day.isoformat() if connection.vendor == "sqlite" else day


class LocalDate(TruncDate):
    """TruncDate in the current time zone. On SQLite, Django's TruncDate calls back into
    Python once per row (seconds for a million events); a zone with one fixed offset over
    the dates involved (Asia/Ho_Chi_Minh: +07:00 since 1975) is SQLite's own date(x, '+N
    seconds') instead."""

    def as_sqlite(self, compiler, connection, **extra_context):
        zone = timezone.get_current_timezone()
        probe = [
            dt.datetime(year, month, 15, tzinfo=dt.UTC)
            for year in (1976, 2000, 2030)
            for month in (1, 7)
        ]
        offsets = {p.astimezone(zone).utcoffset() for p in probe}
        if len(offsets) != 1:
            return super().as_sqlite(compiler, connection, **extra_context)
        seconds = int(offsets.pop().total_seconds())
        sql, params = compiler.compile(self.lhs)
        return f"date({sql}, '{seconds:+d} seconds')", params


def upsert_add(table: str, keys: list[str], columns: list[str], rows: list[tuple]) -> None:
    """INSERT the rows, or add their values to the existing row with the same keys."""
    if not rows:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in (*keys, *columns))
    sets = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + excluded.{qn(c)}" for c in columns)
    conflict = f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET {sets}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, an array per column (keys: an id and a day; values: counts):
            # VALUES lists of 400 rows cost the planner more than the upsert itself.
            types = ["bigint", "date", *["bigint"] * len(columns)]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO {qn(table)} ({names}) SELECT * FROM unnest({arrays}) {conflict}",
                [pg_array(map(str, column)) for column in zip(*rows, strict=True)],
            )
            return
        one = "(" + ", ".join(["%s"] * (len(keys) + len(columns))) + ")"
        for start in range(0, len(rows), _BATCH):
            part = rows[start : start + _BATCH]
            cursor.execute(
                f"INSERT INTO {qn(table)} ({names}) VALUES {', '.join([one] * len(part))} "
                f"{conflict}",
                [value for row in part for value in row],
            )


# Chains read during a rollup_units_kept() block, by unit id. Never for longer: units are
# only added by `gocua units load`, but a test (or a rolled-back load) may give an id to
# another unit, and a stale chain would count residents into the wrong province.
_CHAINS: ContextVar[dict[int, list[int]] | None] = ContextVar("rollup_chains", default=None)


@contextmanager
def rollup_units_kept() -> Iterator[None]:
    """Within the block, each unit's chain of ancestors is read once: a catch-up of many
    batches asks for the same thousand hamlets every batch."""
    token = _CHAINS.set({})
    try:
        yield
    finally:
        _CHAINS.reset(token)


def chains(unit_ids: Iterable[int]) -> dict[int, list[int]]:
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


def write_stocks(diffs: Diffs, last: dt.date) -> int:
    """Add difference entries {(leaf unit, day): vector} to the day's change row of the unit
    and of each of its ancestors. Returns the number of rows written."""
    if not diffs:
        return 0
    chain_of = chains({u for u, _d in diffs})
    expanded: Diffs = {}
    for (leaf, day), vector in diffs.items():
        if day > last:
            raise ValueError(f"a change dated {day} after the last day {last}")
        if any(vector):
            for uid in chain_of.get(leaf, ()):
                add_into(expanded, (uid, day), vector)
    rows = [(uid, param_day(day), *v) for (uid, day), v in expanded.items() if any(v)]
    upsert_add(UnitDay._meta.db_table, ["unit_id", "day"], STOCK_COLUMNS, rows)
    return len(rows)


def write_unit_flows(unit_flows: Flows) -> None:
    """Add field counts {(leaf unit, day): {column: n}} to the unit's rows and its ancestors'."""
    if not unit_flows:
        return
    chain_of = chains({u for u, _d in unit_flows})
    expanded: dict[tuple[int, dt.date], list[int]] = {}
    for (leaf, day), values in unit_flows.items():
        vector = [values.get(c, 0) for c in FLOW_COLUMNS]
        for uid in chain_of.get(leaf, ()):
            add_into(expanded, (uid, day), vector)
    rows = [(u, param_day(d), *v) for (u, d), v in expanded.items() if any(v)]
    upsert_add(UnitDay._meta.db_table, ["unit_id", "day"], FLOW_COLUMNS, rows)


def write_member_flows(member_flows: Flows) -> None:
    """Add field counts {(member, day): {column: n}} to the members' day rows."""
    rows = [
        (m, param_day(d), *(v.get(c, 0) for c in MEMBER_COLUMNS))
        for (m, d), v in member_flows.items()
        if m is not None and any(v.values())
    ]
    upsert_add(MemberDay._meta.db_table, ["member_id", "day"], MEMBER_COLUMNS, rows)
