"""The generator's bulk writer: the campaign clock, id blocks and tables.

The generator writes millions of rows (a province, its history): through the ORM's
bulk_create they take five times as long as through the database's own bulk path (50,000
households on PostgreSQL: 10 s against 2 s), so its rows go through `rows_write` (COPY on
PostgreSQL, one executemany on SQLite), inside `bulk_writing`. These two are the only ways out
to the database here. The generator picks the primary keys of residents, households and
home-support requests itself, so every later table can point at them without reading ids
back; the sequences are moved past them when the writing ends.
"""

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max, Model

from gocua.lib.bulk import analyze, bulk_insert

DAY = 86_400


class Clock:
    """Campaign time as whole seconds since local midnight of day 1 (the window's first day).

    Day d (1..60) covers [(d-1)·DAY, d·DAY); negative seconds are before the window. Keeping
    time as integers makes the history cheap to build and to compare; `at()` turns it into
    what the database stores (an aware datetime for PostgreSQL, Django's naive-UTC text for
    SQLite)."""

    def __init__(self, *, start: dt.date, window: int, tz: dt.tzinfo) -> None:
        self.start = start
        self.window = window
        self.origin = dt.datetime.combine(start, dt.time(), tz)
        self._utc = self.origin.astimezone(dt.UTC).replace(tzinfo=None)
        # PostgreSQL keeps aware datetimes; SQLite Django's naive-UTC text.
        self._aware = connection.features.supports_timezones

    def at(self, t: int | None):
        if t is None:
            return None
        if self._aware:
            return self.origin + dt.timedelta(seconds=t)
        return str(self._utc + dt.timedelta(seconds=t))

    def aware(self, t: int) -> dt.datetime:
        return self.origin + dt.timedelta(seconds=t)

    def date(self, t: int) -> dt.date:
        return self.start + dt.timedelta(days=t // DAY)

    def day_date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day - 1)


class IdBlock:
    """Primary keys handed out by the generator, after every id the table has ever used.

    Ids are never reused (after a `--replace` purge, a new resident must not inherit a deleted
    one's id: other tables, e.g. the rollups' snapshots, key rows by it). Safe because
    generation runs in one transaction that holds the write lock (SQLite's IMMEDIATE
    transactions; an explicit table lock on PostgreSQL, see `bulk_writing`)."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.next = (
            max((model._default_manager.aggregate(m=Max("pk"))["m"] or 0), _last_used(model)) + 1
        )

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value


def _last_used(model: type[Model]) -> int:
    """The last id the table's sequence handed out (0 when none)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
            (sequence,) = cursor.fetchone()
            if sequence is None:
                return 0
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last, called = cursor.fetchone()
            return last if called else last - 1
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        return row[0] if row else 0


class Table:
    """Rows for one table, flushed with the backend's bulk path.

    The generator names the columns it fills; every other concrete field gets its model
    default, so a field added to a model later (nullable, or with a plain default) does not
    break the generator. A new field whose default is a callable must be filled explicitly."""

    def __init__(self, model: type[Model], fields: list[str]) -> None:
        self.model = model
        self.table = model._meta.db_table
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        self.columns = [by_name[name].column for name in fields]
        self.extra: tuple = ()
        for f in model._meta.concrete_fields:
            if f.attname in fields or (f.primary_key and f.auto_created) or f.name == "id":
                continue
            if f.has_default() and callable(f.default):
                raise RuntimeError(f"{model.__name__}.{f.name} needs a value from the generator")
            self.columns.append(f.column)
            self.extra += (f.get_db_prep_save(f.get_default(), connection),)
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.rows.append(row + self.extra if self.extra else row)

    def extend(self, rows: Iterable[tuple]) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        if self.rows:
            rows_write(self.table, self.columns, self.rows)
            self.count += len(self.rows)
            self.rows = []


def rows_write(table: str, columns: list[str], rows: list[tuple]) -> None:
    """Write rows of database-ready values (see Clock.at) into `table` with the database's own
    bulk path, inside `bulk_writing`."""
    bulk_insert(table, columns, rows)


@contextlib.contextmanager
def bulk_writing(models: list[type[Model]], *, analysed: list[type[Model]]) -> Iterator[None]:
    """The generator's writing, in the caller's transaction: other writers kept out of the
    tables whose ids it hands out (`models`), their sequences moved past those ids at the
    end (no-op on SQLite, whose AUTOINCREMENT follows the largest id inserted), and fresh
    planner statistics for the `analysed` tables (see lib.bulk.analyze).

    On PostgreSQL, the tables are locked (SQLite's IMMEDIATE transaction already holds the only
    write lock), and foreign keys are checked as each COPY ends rather than all at commit: the
    same work, but it then runs while the next commune is being built instead of after."""
    if connection.vendor == "postgresql":
        names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    analyze(analysed)
