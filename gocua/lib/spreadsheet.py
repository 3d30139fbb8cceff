"""Writing data into spreadsheets (CSV and XLSX) so that no cell from data is ever live.

A name like `=HYPERLINK("http://x","y")` or `=1+2` typed into a hamlet, a team or a person
must reach the officer's Excel as text. Every CSV and XLSX writer of the project goes through
this module: `csv_writer` neutralises each text cell the way OWASP recommends (a leading `'`
before `= + - @`, tab or carriage return), and `workbook` opens an XLSX in which strings are
only ever strings: formulas come only from `write_formula`, called by the report's own code
for its totals.
"""

import csv
from collections.abc import Iterable
from typing import IO, Any, Protocol

import xlsxwriter

# What a spreadsheet reads as the start of a formula or a command.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


class Writable(Protocol):
    """Where a CSV goes: a text file, or a stream that hands each line back for a response."""

    def write(self, text: str, /) -> object: ...


# An XLSX goes to a path, or to a binary file (written in memory).
XlsxOutput = str | IO[bytes]


def inert(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: text that starts like a formula gets a
    leading apostrophe; numbers and dates the code computed are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


def uninert(value: str) -> str:
    """Undo `inert` on a cell read back from a file (a rejects file corrected and imported
    again): the apostrophe added before a formula character is not part of the data."""
    if value.startswith(QUOTE) and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


class _InertWriter:
    def __init__(self, writer: Any) -> None:  # a csv writer: its type is private to _csv
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([inert(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: Writable, **options: Any) -> _InertWriter:
    """`csv.writer` whose every text cell is inert (see `inert`)."""
    return _InertWriter(csv.writer(stream, **options))


def workbook(output: XlsxOutput, options: dict[str, Any] | None = None) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook in which `write()` never turns a string into a formula, a link
    or a number (xlsxwriter does all three by default)."""
    return xlsxwriter.Workbook(
        output,
        {
            **(options or {}),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
