"""Bulk reads and writes that beat the ORM on both databases (imports, the generator, the
rollups): one array parameter instead of a long IN list on PostgreSQL, COPY for inserts there,
one executemany on SQLite."""

import datetime as dt

from django.db import connection


def select_in(sql: str, values: list, params: tuple = ()) -> list[tuple]:
    """Rows of `sql`, whose `{in_}` stands for "matches one of `values`" (after `params`).

    PostgreSQL gets `= ANY(%s)` with one array parameter: an IN list of 5,000 placeholders
    costs psycopg's query parser and the planner more than the query itself."""
    if not values:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql.format(in_="= ANY(%s)"), [*params, list(values)])
            return cursor.fetchall()
        rows: list[tuple] = []
        for start in range(0, len(values), 30000):  # SQLite allows 32,766 variables
            batch = list(values[start : start + 30000])
            cursor.execute(
                sql.format(in_=f"IN ({', '.join(['%s'] * len(batch))})"), [*params, *batch]
            )
            rows += cursor.fetchall()
        return rows


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if value.__class__ is str:
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def copy_text(rows: list[tuple]) -> bytes:
    """Rows in COPY's text format. Formatting them here, in one pass, is several times faster
    than psycopg's per-row `write_row` for the plain values an import writes."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows).encode()


def bulk_insert(table: str, columns: list[str], rows: list[tuple]) -> None:
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


def db_datetime(value):
    """A datetime as the current backend stores it (SQLite keeps naive UTC text)."""
    if value is None or connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)
