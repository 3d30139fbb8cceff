"""An import's rejected rows (ImportReject): buffered with each chunk, then read back as the
rejects CSV, in the reader's language."""

from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from gocua.imports.columns import field_label
from gocua.imports.models import ImportReject
from gocua.imports.rows import LONE_SURROGATE
from gocua.lib.spreadsheet import csv_writer


class Rejects:
    """The rejected rows of a job (ImportReject): `line, field, reason`, then the row's cells.

    Buffered per chunk and written with it (`flush` inside the chunk's transaction; a dry
    run's after its rollback), so a row is listed once even when a job resumes."""

    def __init__(self, job) -> None:
        self.job = job
        self._pending: list[tuple[int, str, str, list]] = []

    def add(self, line: int, field: str, reason: str, cells: list) -> None:
        self._pending.append((line, field, reason, cells))

    def flush(self) -> None:
        if not self._pending:
            return
        ImportReject.objects.bulk_create(
            [
                ImportReject(
                    job=self.job,
                    line=line,
                    field=field[:32],
                    reason=reason,
                    cells=[_storable(c) for c in cells],
                )
                for line, field, reason, cells in self._pending
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        self._pending.clear()

    def discard(self) -> None:
        """Forget the buffered rows (their chunk was already committed by an earlier run)."""
        self._pending.clear()


def _storable(cell: object) -> str:
    """A rejected row's cell as text the database stores: bytes that were not UTF-8 (kept as
    lone surrogates while reading) and NUL (which PostgreSQL cannot store) become U+FFFD, the
    sign of a character that could not be read."""
    text = "" if cell is None else cell if type(cell) is str else str(cell)
    if LONE_SURROGATE.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "\ufffd")


def rejects_rows(job) -> Iterator[list]:
    """The rejects CSV of a job, row by row: a header, then one row per rejected row in line
    order (`line, field, reason`, then the original cells), in the reader's language: the
    field by the column name an official knows (the reasons were worded by the import, in the
    language of who ran it)."""
    yield [_("Dòng"), _("Cột"), _("Lý do"), *job.header]
    for line, field, reason, cells in (
        job.reject_rows.order_by("line").values_list("line", "field", "reason", "cells").iterator()
    ):
        yield [line, field_label(field), reason, *cells]


def rejects_write(job, path: str | Path) -> None:
    """Write the job's rejects CSV to a file (the command line's --rejects). Always leaves a
    file (a header alone when nothing was rejected) for scripts to read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv_writer(fh).writerows(rejects_rows(job))
