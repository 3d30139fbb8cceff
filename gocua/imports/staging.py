"""The resident import's fast path to the registry: the only hand-written SQL of an import of
residents, each statement behind one public function of this module.

A chunk reads the stored residents and households its rows name with one array parameter
(lib.bulk.select_in), inserts its new households with one statement, and loads its new
residents set-based: on PostgreSQL, COPY into a temporary staging table, then one
`INSERT … SELECT` into the registry, whose foreign keys the database checks as usual; on
SQLite, one executemany.
"""

from typing import NamedTuple

from django.conf import settings
from django.db import connection

from gocua.geo.models import AdminUnit, Level
from gocua.lib.bulk import bulk_insert, copy_insert, next_ids, pg_array, select_in
from gocua.people.models import Household, Resident

HOUSEHOLDS = Household._meta.db_table
UNITS = AdminUnit._meta.db_table
RESIDENTS = Resident._meta.db_table
# The temporary table a chunk's new residents are copied into before they join the registry.
RESIDENTS_STAGE = "import_residents_stage"

RESIDENT_COLUMNS = [  # the other flags and last_used_at take their database defaults
    "national_id",
    "full_name",
    "birth_date",
    "birth_year_only",
    "sex",
    "phone",
    "elderly",
    "eid_stage",
    "eid_level",
    "stage_at",
    "updated_at",
    "name_search",
    # Known only in the writing process, which adds them to Citizen.resident_values:
    "unit_id",
    "province_code",
    "household_id",
]
STORED_FIELDS = [
    "full_name",
    "birth_date",
    "birth_year_only",
    "sex",
    "phone",
    "unit_id",
    "household_id",
    "province_code",
    "elderly",
    "eid_stage",
    "eid_level",
]


class Stored(NamedTuple):
    """A resident already in the registry, as a chunk's rows meet it."""

    national_id: str
    id: int
    values: tuple  # STORED_FIELDS, with values as a Citizen has them
    unit_id: int
    unit_parent_id: int | None
    unit_level: str
    unit_edition: int
    unit_path: str

    @property
    def commune_id(self) -> int | None:
        return self.unit_parent_id if self.unit_level == Level.HAMLET else self.unit_id


_STORED_SQL = (
    f"SELECT r.national_id, r.id, {', '.join('r.' + f for f in STORED_FIELDS)}, "
    "u.parent_id, u.level, u.edition, u.path "
    f"FROM {RESIDENTS} r JOIN {UNITS} u ON u.id = r.unit_id "
    "WHERE r.national_id {in_}"
)


def residents_stored(national_ids: list[str]) -> list[Stored]:
    """The stored residents with these IDs, their values as a Citizen has them (dates as ISO
    text, booleans as bool) whichever the database, and where they live."""
    return [_stored(row) for row in select_in(_STORED_SQL, national_ids)]


def _stored(row: tuple) -> Stored:
    nid, rid, name, born, year_only, sex, phone, unit_id, household_id, province = row[:10]
    elderly, stage, level, parent, unit_level, edition, path = row[10:]
    values = (name, str(born), bool(year_only), sex, phone, unit_id, household_id, province)
    return Stored(
        nid,
        rid,
        (*values, bool(elderly), stage, level),
        unit_id,
        parent,
        unit_level,
        edition,
        path,
    )


# The condition of the partial unique index `household_code`, written as Django writes it:
# SQLite uses a partial index only for a query that repeats its condition, and with
# `code <> ''` it scanned the whole table for every chunk (11 of 36 s at 1.2M rows).
HOUSEHOLDS_BY_CODE = f"SELECT code, id FROM {HOUSEHOLDS} WHERE NOT (code = '') AND code {{in_}}"


def households_by_code(codes: list[str]) -> list[tuple[str, int]]:
    """(code, id) of the stored households with these codes (Mã hộ)."""
    return select_in(HOUSEHOLDS_BY_CODE, codes)


def households_by_address(addresses: set[str]) -> list[tuple[int, str, int]]:
    """(unit id, address, id) of the stored households without a code at these addresses."""
    return select_in(
        f"SELECT unit_id, address, id FROM {HOUSEHOLDS} WHERE code = '' AND address {{in_}}",
        list(addresses),
    )


def households_insert(
    rows: list[tuple[int, str, str, str, str]],
) -> list[tuple[int, str, str, int]]:
    """Insert (unit_id, code, address, province_code, walk_key) rows; returns each new
    household's (unit_id, code, address, id), without a second query to find the ids."""
    returned: list[tuple[int, str, str, int]] = []
    insert = f"INSERT INTO {HOUSEHOLDS} (unit_id, code, address, province_code, walk_key) "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column (see pg_array): 5 parameters, where VALUES would need 5
            # per row.
            cursor.execute(
                insert + "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], "
                "%s::text[], %s::text[]) RETURNING unit_id, code, address, id",
                [pg_array(column) for column in zip(*rows, strict=True)],
            )
            return cursor.fetchall()
        for start in range(0, len(rows), 6000):  # SQLite allows 32,766 variables
            batch = rows[start : start + 6000]
            cursor.execute(
                insert
                + "VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
                + " RETURNING unit_id, code, address, id",
                [value for row in batch for value in row],
            )
            returned += cursor.fetchall()
    return returned


def copy_used() -> bool:
    """Whether new residents reach the registry by COPY (PostgreSQL), so the parsing process
    formats their columns in COPY's text format (see residents_copy), or as tuples (SQLite)."""
    return connection.vendor == "postgresql"


def resident_ids(count: int) -> list[int]:
    """`count` new resident ids, for the rows residents_copy or residents_insert is about to
    write (inside the chunk's transaction)."""
    return next_ids(RESIDENTS, count)


def residents_copy(text: str) -> None:
    """PostgreSQL: load new residents given as rows of COPY's text format ("id" then
    RESIDENT_COLUMNS): COPY into a temporary staging table (no WAL, no index, no foreign key
    to check), then one `INSERT … SELECT` into the registry, whose foreign keys and unique
    national IDs the database checks as for any insert. Inside the chunk's transaction."""
    columns = ["id", *RESIDENT_COLUMNS]
    names = ", ".join(f'"{c}"' for c in columns)
    # Emptied at each commit and created once per connection; behind transaction pooling
    # (settings.DB_POOLER) dropped at each commit instead: a table left on a pooler's server
    # connection would outlive a migration of the registry and be found by another client.
    on_commit = "DROP" if settings.DB_POOLER == "transaction" else "DELETE ROWS"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {RESIDENTS_STAGE} "
            f"(LIKE {RESIDENTS} INCLUDING DEFAULTS) ON COMMIT {on_commit}"
        )
        copy_insert(RESIDENTS_STAGE, columns, text)
        cursor.execute(f"INSERT INTO {RESIDENTS} ({names}) SELECT {names} FROM {RESIDENTS_STAGE}")
        cursor.execute(f"TRUNCATE {RESIDENTS_STAGE}")


def residents_insert(rows: list[tuple]) -> None:
    """SQLite: insert new residents ("id" then RESIDENT_COLUMNS) with one executemany."""
    bulk_insert(RESIDENTS, ["id", *RESIDENT_COLUMNS], rows)
