"""lib.bulk on PostgreSQL: array literals, and the rows a chunk refers to locked once for it."""

import uuid

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from gocua.lib import bulk
from gocua.lib.bulk import pg_array, references_locked

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's arrays and per-row trigger checks"
)

HOUSEHOLDS, UNITS = "people_household", "geo_adminunit"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        [
            "Nguyễn Văn An",
            'a "quoted" name',
            "back\\slash",
            "",
            "NULL",
            "a,b",
            "{c}",
            " d ",
            "e\tf",
        ],
        ["plain", None, "x"],
        [1, 2, 30_000_000_000],
        [uuid.UUID(int=7), uuid.UUID(int=8)],
        [],
    ],
)
def test_an_array_literal_reads_back_as_the_values(values):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [pg_array(values)])
        assert cursor.fetchone()[0] == [None if v is None else str(v) for v in values]


def _household(tree, code="H1"):
    from gocua.people.models import Household

    return Household.objects.create(unit=tree.kp1, code=code, province_code="72")


def _role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_missing_reference_is_named_and_nothing_inside_runs(tree):
    house = _household(tree)
    ran = []
    with pytest.raises(IntegrityError, match=r"people_household: no row with id 999999"):
        with transaction.atomic(), references_locked({HOUSEHOLDS: [house.pk, 999_999]}):
            ran.append(True)
    assert not ran


@pytest.mark.django_db
def test_per_row_checks_stay_on_inside_and_for_the_rest_of_the_transaction(tree):
    from gocua.people.models import Household

    house = _household(tree)
    with pytest.raises(IntegrityError), transaction.atomic():
        with references_locked({UNITS: [tree.kp1.pk], HOUSEHOLDS: [house.pk]}):
            assert _role() == "origin"
        assert _role() == "origin"
        # A row written after the block is checked by the database as usual.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                f"INSERT INTO {HOUSEHOLDS} (unit_id, code, address, province_code) "
                "VALUES (999999, 'X', '', '72')"
            )
    assert not Household.objects.filter(code="X").exists()


@pytest.mark.django_db
def test_an_error_inside_puts_the_checks_back(tree):
    house = _household(tree)
    with transaction.atomic():
        with pytest.raises(ZeroDivisionError), references_locked({HOUSEHOLDS: [house.pk]}):
            1 / 0  # noqa: B018 - any Python error while the checks are off
        assert _role() == "origin"


@pytest.mark.django_db(transaction=True)
def test_the_referenced_rows_cannot_be_deleted_until_the_transaction_ends(tree):
    house = _household(tree)
    settings = connection.settings_dict
    with transaction.atomic(), references_locked({HOUSEHOLDS: [house.pk]}):
        with psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"] or None,
            dbname=settings["NAME"],
            autocommit=True,
        ) as other:
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(f"DELETE FROM {HOUSEHOLDS} WHERE id = %s", [house.pk])


@pytest.mark.django_db
def test_copy_unescape_reads_back_what_copy_reads_from_copy_escape():
    texts = ["Nguyễn Văn An", "a\\b", "tab\there", "line\nbreak\r", "\\N", "\\\\t", ""]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE escaped (n int, t text)")
    bulk.copy_insert(
        "escaped", ["n", "t"], "".join(f"{n}\t{bulk.copy_escape(t)}\n" for n, t in enumerate(texts))
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT t FROM escaped ORDER BY n")
        assert [row[0] for row in cursor.fetchall()] == texts
    assert [bulk.copy_unescape(bulk.copy_escape(t)) for t in texts] == texts
