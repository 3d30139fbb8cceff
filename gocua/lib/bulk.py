"""Bulk reads and writes that beat the ORM on both databases (imports, the generator, the
rollups): one array parameter instead of a long IN list on PostgreSQL, COPY for inserts there,
one executemany on SQLite."""

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

from django.db import IntegrityError, connection
from django.db.models import Model
from django.db.models.options import Options

# A row of database-ready values, as a cursor reads or writes it.
Row = tuple[Any, ...]


def select_in(sql: str, values: list[Any], params: Row = (), *, prepared: bool = True) -> list[Row]:
    """Rows of `sql`, whose `{in_}` stands for "matches one of `values`" (after `params`).

    PostgreSQL gets `= ANY(%s)` with one array parameter (see pg_array): an IN list of 5,000
    placeholders costs psycopg's query parser and the planner more than the query itself.

    `prepared=False` for a lookup of a few values in a table that grows fast (the visits of
    a campaign's first hour): a prepared statement keeps the generic plan PostgreSQL settled on
    after five runs, a scan of the whole table if it was empty then, until autovacuum's next
    ANALYZE; unprepared, each run is planned for its own array and the table as it is. Keep the
    default for thousands of values (an import chunk): planned for such an array on a table
    without statistics yet, the lookup scans the table on every chunk (1.2M residents: 42 s
    instead of 30 s), where the generic plan uses the index."""
    if not values:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with _prepared(prepared):
                cursor.execute(sql.format(in_="= ANY(%s)"), [*params, pg_array(values)])
            found: list[Row] = cursor.fetchall()
            return found
        rows: list[Row] = []
        for start in range(0, len(values), 30000):  # SQLite allows 32,766 variables
            batch = list(values[start : start + 30000])
            cursor.execute(
                sql.format(in_=f"IN ({', '.join(['%s'] * len(batch))})"), [*params, *batch]
            )
            rows += cursor.fetchall()
        return rows


def execute_in(sql: str, values: list[Any], params: Row = ()) -> None:
    """Run a statement that reads no rows back (an INSERT .. SELECT) for `values`, written as
    in select_in (`{in_}`: "matches one of `values`")."""
    if not values:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.format(in_="= ANY(%s)"), [*params, pg_array(values)])
            return
        for start in range(0, len(values), 30000):  # SQLite allows 32,766 variables
            batch = list(values[start : start + 30000])
            cursor.execute(
                sql.format(in_=f"IN ({', '.join(['%s'] * len(batch))})"), [*params, *batch]
            )


_ARRAY_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})


def pg_array(values: Iterable[Any]) -> str:
    """Values (str, int, UUID, date, None) as one PostgreSQL array literal, for a parameter
    whose type the statement gives (`col = ANY(%s)`, `unnest(%s::text[])`). psycopg adapts a
    list element by element in Python: 1.9 ms for 5,000 national IDs (0.55 ms in binary),
    which an import pays 2,000 times; this takes about 0.05 ms."""
    texts: list[str | None] = [
        None if v is None else v if v.__class__ is str else str(v) for v in values
    ]
    if None in texts:
        return (
            "{"
            + ",".join(
                "NULL" if t is None else '"' + t.translate(_ARRAY_ESCAPES) + '"' for t in texts
            )
            + "}"
        )
    if not texts:
        return "{}"
    present = cast("list[str]", texts)  # no None: returned above
    joined = '","'.join(present)
    if "\\" in joined or joined.count('"') != 2 * (len(present) - 1):  # a value holds one
        joined = '","'.join(t.translate(_ARRAY_ESCAPES) for t in present)
    return '{"' + joined + '"}'


@contextlib.contextmanager
def _prepared(allowed: bool) -> Iterator[None]:
    """psycopg prepares a statement run five times on a connection (settings OPTIONS); this
    turns that off for one statement, without a round trip."""
    raw = connection.connection
    if allowed or raw is None:
        yield
        return
    threshold, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        yield
    finally:
        raw.prepare_threshold = threshold


@contextlib.contextmanager
def references_locked(references: Mapping[str, Iterable[int]]) -> Iterator[None]:
    """The referenced rows ({table: ids}) of the bulk writes inside, locked FOR KEY SHARE in one
    statement per table before they start, as each row's foreign-key check would lock them: a
    missing one raises IntegrityError naming it before anything is written, and none can be
    deleted before this transaction ends. The database still checks each written row.

    The caller must name every table the writes inside refer to. On SQLite, which locks the
    whole database for a writing transaction, nothing is asked."""
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("references_locked() needs a transaction: its locks end with it")
    with connection.cursor() as cursor:
        for table, ids in references.items():
            wanted = set(ids)
            if not wanted:
                continue
            cursor.execute(
                f'SELECT "id" FROM "{table}" WHERE "id" = ANY(%s) FOR KEY SHARE', [pg_array(wanted)]
            )
            missing = wanted.difference(row[0] for row in cursor.fetchall())
            if missing:
                raise IntegrityError(
                    f"{table}: no row with id {', '.join(map(str, sorted(missing)[:10]))}"
                )
    yield


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if value.__class__ is str:
        # mypy narrows on isinstance, not on __class__, which costs 11 ns less a value here
        return value.translate(_COPY_ESCAPES)  # type: ignore[attr-defined,no-any-return]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def copy_text(rows: list[Row]) -> bytes:
    """Rows in COPY's text format. Formatting them here, in one pass, is several times faster
    than psycopg's per-row `write_row` for the plain values an import writes."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows).encode()


COPY_NULL = "\\N"


def copy_escape(text: str) -> str:
    # Four scans in C cost a tenth of translate(), which looks up every character: names and
    # addresses almost never hold one of these.
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


_COPY_UNESCAPES = re.compile(r"\\(.)", re.DOTALL)
_COPY_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def copy_unescape(text: str) -> str:
    """copy_escape undone: a field of COPY's text format as the text it holds."""
    if "\\" not in text:
        return text
    return _COPY_UNESCAPES.sub(lambda m: _COPY_UNESCAPED.get(m[1], m[1]), text)


def copy_fields(values: Row) -> str:
    """Values as the first fields of a row in COPY's text format, each followed by its tab: for
    an import that formats most of a row in its parsing process and the rest where it writes."""
    return "\t".join(map(_copy_value, values)) + "\t"


def copy_insert(table: str, columns: list[str], text: str) -> None:
    """COPY rows already in COPY's text format (PostgreSQL only)."""
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            copy.write(text.encode())


def next_ids(table: str, count: int) -> list[int]:
    """`count` new primary keys of `table`, for rows a bulk insert is about to write with their
    ids given (COPY and executemany cannot say which ids they assigned; reading them back by
    another key costs an index lookup per row). Call it inside the transaction that inserts.

    PostgreSQL draws them from the table's sequence. SQLite has no sequence to draw from, but
    the transaction holds the database's write lock (transaction_mode IMMEDIATE), so nobody
    else can insert before this one: the ids after the largest ever given are free."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [f'"{table}"', count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f'SELECT MAX(m) FROM (SELECT MAX("id") AS m FROM "{table}" UNION ALL '
            "SELECT seq FROM sqlite_sequence WHERE name = %s)",
            [table],
        )
        (last,) = cursor.fetchone()
        first = (last or 0) + 1
        return list(range(first, first + count))


def bulk_insert(table: str, columns: list[str], rows: list[Row]) -> None:
    """The database's own bulk path: COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                copy.write(copy_text(rows))
        else:
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


# Below this many rows one multi-row INSERT beats COPY's extra round trips.
SMALL_INSERT = 50


def insert_objects(objects: Sequence[Model]) -> None:
    """Insert unsaved model instances of one model, as `bulk_create` would (auto_now_add and
    defaults applied, values prepared by their fields), without the ORM's query compiler.
    Primary keys the database assigns are not read back; give a UUID key in Python when you
    need it. Plain columns only: COPY would not format a JSON value."""
    if not objects:
        return
    meta, columns, rows = _insert_values(objects)
    insert_rows(meta.db_table, columns, rows)


def insert_rows(table: str, columns: list[str], rows: list[Row]) -> None:
    """Insert rows of database-ready values (see db_datetime, db_uuid) into `table`: one
    multi-row INSERT for a few rows on PostgreSQL, COPY for more, one executemany on SQLite.

    For the hottest writes, where building a model instance per row and preparing each value
    through its field cost more than the INSERT: the visit sync's visits and outcomes and the
    rollups' queue. Every column without a database default must be given."""
    if not rows:
        return
    if connection.vendor == "postgresql" and len(rows) < SMALL_INSERT:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join([f"({', '.join(['%s'] * len(columns))})"] * len(rows))
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{table}" ({names}) VALUES {marks}',
                [value for row in rows for value in row],
            )
        return
    bulk_insert(table, columns, rows)


def _insert_values(objects: Sequence[Model]) -> tuple["Options[Model]", list[str], list[Row]]:
    """(meta, columns, rows) to insert unsaved instances of one model: auto_now_add and
    defaults applied and each value prepared by its field, as `bulk_create` does; a primary
    key left empty is the database's to assign. The instances count as saved from now on."""
    meta = objects[0]._meta
    fields = [
        f
        for f in meta.concrete_fields
        if not (f.primary_key and getattr(objects[0], f.attname) is None)
    ]
    rows = [
        tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
        for obj in objects
    ]
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias
    return meta, [f.column for f in fields], rows


def analyze(models: list[type[Model]]) -> None:
    """Fresh planner statistics after a bulk load (the generator, an import), so the first
    dashboard is not slow and no statement keeps a plan made while the tables were empty."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        else:
            cursor.execute("PRAGMA optimize")


def db_datetime(value: dt.datetime | None) -> dt.datetime | str | None:
    """A datetime as the current backend stores it (SQLite keeps naive UTC text)."""
    if value is None or connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def db_uuid(value: uuid.UUID) -> uuid.UUID | str:
    """A UUID as the current backend stores it (SQLite keeps 32 hex digits, as Django's
    UUIDField does there)."""
    if connection.features.has_native_uuid_field:
        return value
    return value.hex
