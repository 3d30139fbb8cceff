"""Rows parsed in chunks, and each chunk packed to cross from the parsing process to the writer."""

import dataclasses
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from gocua.imports.rows import RowError


class Record(Protocol):
    """A parsed row: whatever else it holds, it names a person."""

    @property
    def national_id(self) -> str: ...


@dataclass
class ParsedChunk:
    """A chunk of parsed rows, with the rows that failed parsing and the warnings raised."""

    records: list
    rejects: list[tuple[int, str, str, list]]
    warnings: list[tuple[int, str, str]]  # (line, national ID, text)
    rows: int
    # Rows that parsed, then were settled before the writer saw them: rejected by a later check
    # (see RowError.national_id), or repeating an earlier row of the file (counted unchanged
    # when identical, else rejected as a conflict).
    late: int = 0
    unchanged: int = 0
    # Each record's cells, for a rejects file line, in the parsing process only: a record need
    # not carry them to the writer (a third of what crossed the pipe).
    cells: list[list] = dataclasses.field(default_factory=list)
    # The file's last line read into this chunk (a resumed job skips chunks up to the line it
    # committed), and how far through the file that is (0..1).
    last_line: int = 0
    progress: float = 0.0


def parse_chunks(
    rows: Iterator[tuple[int, list]],
    parse: Callable[[int, list[Any], Callable[[str], None]], Record | None],
    chunk_rows: int,
    position: Callable[[], float] = lambda: 0.0,
) -> Iterator[ParsedChunk]:
    """Parse rows into chunks. `parse(line, cells, warn)` returns a record with a
    `national_id`, None for a row to skip silently, or raises RowError. Pure: no database.
    The chunks are the same whenever the same file is parsed (a resumed job relies on it)."""
    chunk = ParsedChunk([], [], [], 0)
    for line, cells in rows:
        chunk.last_line = line
        line_warnings: list[str] = []
        try:
            record = parse(line, cells, line_warnings.append)
        except RowError as exc:
            chunk.rows += 1
            chunk.rejects.append((line, exc.field, exc.reason, cells))
            if exc.national_id is None:
                continue
            if line_warnings:
                chunk.warnings += [(line, exc.national_id, text) for text in line_warnings]
            chunk.late += 1
        else:
            if record is None:
                continue
            chunk.rows += 1
            if line_warnings:
                chunk.warnings += [(line, record.national_id, text) for text in line_warnings]
            chunk.records.append(record)
            chunk.cells.append(cells)
        # A row rejected after it parsed still takes its place in the chunk, as when the writer
        # made that check: chunks end on the same rows as they did.
        if len(chunk.records) + chunk.late >= chunk_rows:
            chunk.progress = position()
            yield chunk
            chunk = ParsedChunk([], [], [], 0)
    if chunk.rows:
        chunk.progress = 1.0
        yield chunk


CELL_SEPARATOR = "\x1f"  # ASCII unit separator: never in a cell of an office file


def join_cells(cells: list) -> str:
    try:
        return CELL_SEPARATOR.join(cells)  # a CSV row: text only
    except TypeError:  # an XLSX row: numbers, dates, empty cells
        return CELL_SEPARATOR.join(
            "" if c is None else c if c.__class__ is str else str(c) for c in cells
        )


def split_cells(joined: str) -> list[str]:
    return joined.split(CELL_SEPARATOR)


def encode_chunk(chunk: ParsedChunk, *, cells: bool = False) -> bytes:
    """For records that are NamedTuples of plain values, sent as plain tuples (see Citizen).
    `cells`: the records' own cells travel too, for a writer that may still reject a row
    (an import limited to a user's jurisdiction); otherwise they stay in the parsing process."""
    return pickle.dumps(
        (
            [tuple(r) for r in chunk.records],
            [(line, f, reason, join_cells(cells)) for line, f, reason, cells in chunk.rejects],
            chunk.warnings,
            chunk.rows,
            chunk.late,
            chunk.unchanged,
            list(map(join_cells, chunk.cells)) if cells else None,
            chunk.last_line,
            chunk.progress,
        ),
        pickle.HIGHEST_PROTOCOL,
    )


def decode_chunk_as(record_type: type) -> Callable[[bytes], ParsedChunk]:
    # tuple.__new__ straight from C: the NamedTuple constructor parses arguments in Python.
    make = partial(tuple.__new__, record_type)

    def decode(data: bytes) -> ParsedChunk:
        records, rejects, warnings, rows, late, unchanged, cells, last, progress = pickle.loads(  # noqa: S301 - from this import's own parsing process
            data
        )
        return ParsedChunk(
            [make(r) for r in records],
            [(line, f, reason, split_cells(cells)) for line, f, reason, cells in rejects],
            [tuple(w) for w in warnings],
            rows,
            late,
            unchanged,
            list(map(split_cells, cells)) if cells is not None else [],
            last,
            progress,
        )

    return decode
