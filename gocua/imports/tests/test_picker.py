"""rows.picker: the fields of a row, in order, stripped (one call per row of every import)."""

import datetime as dt

import pytest

from gocua.imports.rows import picker

FIELDS = ("national_id", "full_name", "eid_stage", "phone")
COLUMNS = {"full_name": 0, "national_id": 2, "phone": 3}  # no stage column


@pytest.mark.parametrize("text", [True, False])
def test_it_picks_the_fields_in_order_stripped_with_none_for_a_missing_column(text):
    pick = picker(COLUMNS, FIELDS, text=text)
    assert pick([" An ", "x", "072090001234 ", "\t0912345678", "extra"]) == (
        "072090001234",
        "An",
        None,
        "0912345678",
    )


@pytest.mark.parametrize("text", [True, False])
def test_a_short_row_gives_none_for_the_cells_it_lacks(text):
    pick = picker(COLUMNS, FIELDS, text=text)
    assert pick([" An ", "x"]) == (None, "An", None, None)
    assert pick([]) == (None, None, None, None)


def test_cells_of_an_excel_row_keep_their_types():
    pick = picker(COLUMNS, FIELDS)
    born = dt.date(1990, 3, 5)
    assert pick([born, None, 72090001234.0, " 0912345678 "]) == (
        72090001234.0,
        born,
        None,
        "0912345678",
    )
