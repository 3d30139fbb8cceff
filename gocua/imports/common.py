"""What both imports share: the summary, the rejects file, the in-file seen-set, bulk writes."""

import dataclasses
import gc
import logging
import marshal
import multiprocessing
import queue
import re
import signal
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from itertools import chain
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from gocua.imports.columns import field_label
from gocua.imports.readers import Undecodable
from gocua.lib.limits import too_long
from gocua.lib.spreadsheet import csv_writer
from gocua.lib.text import control_character, fold
from gocua.reports.rollups import rollup_catch_up, rollup_units_kept

log = logging.getLogger("gocua.imports")


@dataclass
class ImportSummary:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    rejects_file: str | None = None
    stale: int | None = None
    job_id: int | None = None  # the ImportJob (not part of the summary's contract keys)

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["job_id"]
        if data["stale"] is None:
            del data["stale"]
        return data


class RowError(ValueError):
    """One row is rejected: which field, and why."""

    def __init__(self, field: str, reason: str, *, national_id: str | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        # Set by a check made after the row parsed (its unit): the row's warnings still count.
        self.national_id = national_id


def picker(
    columns: dict[str, int], fields: tuple[str, ...], *, text: bool = False
) -> Callable[[list], tuple]:
    """A function that takes a row's cells and returns the `fields` in order, stripped, with
    None for a column the file lacks or a short row (hot path: one call per row). `text`: every
    cell is a str (a CSV file), so stripping needs no type test.

    Written out as Python source and compiled once per file, as `collections.namedtuple`
    builds its classes: indexing each cell in place is three times faster than an itemgetter
    over a padded row. The source holds only column numbers, never text from the file."""
    need = max((columns[f] for f in fields if f in columns), default=-1) + 1

    def short(cells: list) -> tuple:
        padded = [*cells, *[None] * (need - len(cells))]
        return tuple(
            None if (i := columns.get(f)) is None else _stripped(padded[i]) for f in fields
        )

    cell = "cells[{}].strip()" if text else "_stripped(cells[{}])"
    picked = ", ".join(
        "None" if columns.get(f) is None else cell.format(int(columns[f])) for f in fields
    )
    source = (
        f"def pick(cells):\n"
        f"    if len(cells) < {need}:\n"
        f"        return short(cells)\n"
        f"    return ({picked},)\n"
    )
    namespace = {"short": short, "_stripped": _stripped}
    exec(source, namespace)  # noqa: S102 - built above from column numbers only
    return namespace["pick"]


def _stripped(value: object) -> object:
    return value.strip() if value.__class__ is str else value


_SURROGATE = re.compile("[\udc80-\udcff]")


def check_utf8(*texts: object) -> None:
    """CSV cells are decoded with surrogateescape so one bad line cannot stop the file; a bad
    byte shows as a lone surrogate. Only text fields need the check: a bad byte in a number
    field already fails that field's own rule. Nothing to look for (three regex searches a
    row) until this process has met such a byte (see readers.Undecodable)."""
    if not Undecodable.seen:
        return
    for text in texts:
        if text.__class__ is str and _SURROGATE.search(text):
            raise RowError("row", _("có byte không phải UTF-8 (tệp lưu theo bảng mã cũ?)"))


def check_controls(*fields: tuple[str, object]) -> None:
    """Refuse a row whose text cells hold control characters (NUL and the like: a broken or
    hostile file; tab and line breaks are white space and fine). Nothing to do for the usual
    cell, which is printable."""
    for field, value in fields:
        if value.__class__ is str and not value.isprintable():
            found = control_character(value, multiline=True)
            if found:
                raise RowError(field, _("có ký tự điều khiển (%(char)s)") % {"char": found})


def check_length(field: str, value: str, limit: int) -> None:
    """Refuse a row whose text is longer than the product keeps (gocua.lib.limits), with the
    field, its length and the limit: never cut silently."""
    if len(value) > limit:
        raise RowError(field, too_long(limit, len(value)))


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
    parse: Callable[[int, list, Callable[[str], None]], object | None],
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
    """For records that are NamedTuples of plain values: `marshal`, not pickle (see Citizen).
    `cells`: the records' own cells travel too, for a writer that may still reject a row
    (an import limited to a user's jurisdiction); otherwise they stay in the parsing process."""
    return marshal.dumps(
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
        # Version 2 has no back-references: writing does not look every object up in a table
        # of those already written. Twice as fast to write, as fast to read, 10% more bytes.
        2,
    )


def decode_chunk_as(record_type: type) -> Callable[[bytes], ParsedChunk]:
    # tuple.__new__ straight from C: the NamedTuple constructor parses arguments in Python.
    make = partial(tuple.__new__, record_type)

    def decode(data: bytes) -> ParsedChunk:
        records, rejects, warnings, rows, late, unchanged, cells, last, progress = marshal.loads(
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


class _Collector:
    """Who paused Python's cyclic garbage collector, so that the last one out restores it."""

    lock = threading.Lock()
    pauses = 0
    was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Turn off Python's cyclic garbage collector for the duration of an import.

    An import allocates millions of short-lived tuples and strings; every few hundred
    allocations the collector walks the young objects, and often the whole heap (Django's
    included): a third of the import's CPU. Rows are plain values freed by reference counting and
    an import leaves only a handful of cycles, so there is nothing for it to find. Counted, so
    that two imports in threads of one web worker leave the collector as they found it."""
    with _Collector.lock:
        if _Collector.pauses == 0:
            _Collector.was_enabled = gc.isenabled()
            gc.disable()
        _Collector.pauses += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.pauses -= 1
            if _Collector.pauses == 0 and _Collector.was_enabled:
                gc.enable()


WAL_CHECKPOINT_PAGES = 20_000  # 80 MB of 4 KB pages


@contextmanager
def wal_checkpoints_spaced() -> Iterator[None]:
    """On SQLite, copy the write-ahead log back into the database file every 80 MB during an
    import instead of every 4 MB (SQLite's default, 1,000 pages).

    Each chunk's commit writes more than 1,000 pages, so by default every commit ran a
    checkpoint: it copied the pages it had just written and synced the file, 7.7 of 26 s of a
    1.2M-row import. Spaced out, a page that many chunks touch (index pages) is copied once.
    The setting belongs to this connection and is put back afterwards."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(before)}")


POLL_SECONDS = 0.1  # how often the receiving thread looks whether the consumer has stopped


def _die_with_parent() -> None:
    """Linux: the parsing process is killed when the importing one dies, however it dies (a
    worker killed with SIGKILL cannot stop its children; they would linger, blocked on a queue
    nobody reads)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # another system: the orphan ends when its queue breaks
        pass


def in_background(
    items: Iterator,
    *,
    depth: int = 2,
    encode: Callable[[object], bytes] | None = None,
    decode: Callable[[bytes], object] | None = None,
) -> Iterator:
    """Run an iterator in a forked child process and yield its items here.

    Parsing and validating rows is pure Python; writing them waits on the database. Two cores
    let the two overlap. The child never touches the database connection it inherits, and the
    bounded queues keep at most `depth` + 1 items in flight, so memory stays flat.

    The items are received and decoded by a thread of this process: the writer spends most of
    its time waiting on the database, without the GIL, so decoding the next chunk then is free
    (a tenth of the writer's work on the critical path of an import)."""
    context = multiprocessing.get_context("fork")
    pipe = context.Queue(maxsize=depth)

    def produce() -> None:
        _die_with_parent()
        try:
            for item in items:
                pipe.put(("item", encode(item) if encode else item))
            pipe.put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises
            pipe.put(("error", exc))

    received: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def receive() -> None:
        kind = "item"
        while kind == "item" and not stop.is_set():
            try:
                kind, payload = pipe.get(timeout=POLL_SECONDS)
                if kind == "item" and decode:
                    payload = decode(payload)
            except queue.Empty:
                if child.is_alive():
                    continue
                # Killed (the OOM killer, a signal) without a word: say so, do not wait forever.
                kind, payload = (
                    "error",
                    RuntimeError(
                        f"the parsing process ended unexpectedly (exit code {child.exitcode})"
                    ),
                )
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises
                kind, payload = "error", exc
            while not stop.is_set():
                try:
                    received.put((kind, payload), timeout=POLL_SECONDS)
                    break
                except queue.Full:
                    continue

    child = context.Process(target=produce, daemon=True)
    child.start()
    receiver = threading.Thread(target=receive, name="gocua-receive", daemon=True)
    receiver.start()
    try:
        while True:
            kind, payload = received.get()
            if kind == "item":
                yield payload
            elif kind == "error":
                raise payload
            else:
                break
    finally:
        stop.set()
        receiver.join(timeout=5)
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        pipe.close()


class ImportCancelled(Exception):
    """The job's cancel was asked for: it stops between two chunks, keeping what it committed."""


WARNING_SAMPLES = 200  # warnings kept on the job for its page (all of them are counted)


def import_run(
    *,
    kind: str,
    table,
    path: str,
    user,
    edition: int | None,
    dry_run: bool,
    rejects_path: str | None,
    body: Callable[..., "ImportSummary"],
    request=None,
    file_name: str | None = None,
    job=None,
) -> "ImportSummary":
    """The ImportJob around one run over one file: made (or, for a queued job, taken up; a job
    a killed worker left resumes after its last committed chunk, its counts restored), marked
    done, dry run, cancelled or failed (an interrupted run stays visible as failed), its rejects
    written to `rejects_path` when asked, and audited (the command line, `user=None`, as acting
    with the whole installation's authority). `body(job, rejects, summary)` does the work,
    adding to `summary`, and returns it."""
    from django.utils import timezone

    from gocua.accounts.services import audit_record
    from gocua.imports.models import ImportJob

    if job is None:
        job = ImportJob.objects.create(
            kind=kind,
            file_name=(file_name or str(path))[-255:],
            user=user,
            edition=edition,
            dry_run=dry_run,
            rejects_file=rejects_path or "",
            status=ImportJob.Status.RUNNING,
        )
    job.sheet, job.notes, job.header = table.sheet, list(table.notes), list(table.header)
    job.status = ImportJob.Status.RUNNING
    job.save(update_fields=["sheet", "notes", "header", "status"])
    summary = ImportSummary(
        **{name: getattr(job, name) for name in PROGRESS_COUNTS if name != "stale"},
        stale=job.stale if kind == ImportJob.Kind.STAGES else None,
        job_id=job.pk,
    )

    def audit(outcome: str) -> None:
        audit_record(
            user=user,
            command_line=user is None,
            action="import",
            object_type="import_job",
            object_id=job.pk,
            unit=user.unit if user is not None else None,
            request=request,
            detail={
                "kind": kind,
                "file": job.file_name,
                "dry_run": dry_run,
                "outcome": outcome,
                **{k: v for k, v in summary.as_dict().items() if k != "rejects_file"},
            },
        )

    def finish(status: str, message: str = "") -> None:
        job.status, job.finished_at, job.message = status, timezone.now(), message[:2000]
        job.save(update_fields=["status", "finished_at", "message"])

    rejects = Rejects(job)
    try:
        with rollup_units_kept():
            body(job, rejects, summary)
        rollup_catch_up()  # an import that has ended has been counted
    except ImportCancelled:
        rollup_catch_up()
        finish(ImportJob.Status.CANCELLED)
        audit("cancelled")
        return summary
    except BaseException as exc:
        finish(ImportJob.Status.FAILED, str(exc) if isinstance(exc, Exception) else "")
        try:
            audit("failed")
        except Exception:  # the database may be what failed: the run's own error matters more
            log.exception("import %s: could not write the audit entry of the failure", job.pk)
        raise
    finally:
        table.close()
    if rejects_path:
        rejects_write(job, rejects_path)
    summary.rejects_file = rejects_path
    finish(ImportJob.Status.DRY_RUN if dry_run else ImportJob.Status.DONE)
    audit("dry_run" if dry_run else "done")
    log.info("%s import %s: %s", kind, job.pk, summary.as_dict())
    return summary


PROGRESS_COUNTS = ("rows", "inserted", "updated", "unchanged", "rejected", "warnings", "stale")


def save_progress(job, summary: "ImportSummary", *, last_line: int, progress: float) -> None:
    """The counts so far, the last line committed and how far through the file: in the chunk's
    transaction, so they always describe what is committed."""
    names = [n for n in PROGRESS_COUNTS if getattr(summary, n) is not None]
    for name in names:
        setattr(job, name, getattr(summary, name))
    job.resume_line = last_line
    job.progress = progress
    job.save(update_fields=[*names, "resume_line", "progress"])


def chunk_commit(
    *,
    job,
    summary: "ImportSummary",
    rejects: "Rejects",
    parsed: ParsedChunk,
    dry_run: bool,
    write: Callable[[], object] = lambda: None,
    warnings: list[str] = (),  # type: ignore[assignment]
) -> None:
    """Commit one chunk: its writes (`write()`), its rejected rows, the job's counts and the
    line it reached, in one transaction, so that a run killed at any moment resumes exactly
    after what is committed. A dry run's writes are rolled back and only its counts and
    rejects kept. Then the cancel: raises ImportCancelled when someone asked the job to stop
    (what is committed stays; the file can be imported again to the same end)."""
    with transaction.atomic():
        write()
        if dry_run:
            transaction.set_rollback(True)
        else:
            save_progress(job, summary, last_line=parsed.last_line, progress=parsed.progress)
            rejects.flush()
    if dry_run:
        with transaction.atomic():
            save_progress(job, summary, last_line=parsed.last_line, progress=parsed.progress)
            rejects.flush()
    warnings_keep(job, list(warnings))
    if cancel_requested(job):
        raise ImportCancelled


def cancel_requested(job) -> bool:
    """Whether someone asked the job to stop (checked between chunks)."""
    return type(job).objects.filter(pk=job.pk, cancel_requested=True).exists()


def warnings_keep(job, texts: list[str]) -> None:
    """Keep the first WARNING_SAMPLES warnings (already masked) on the job, for its page."""
    room = WARNING_SAMPLES - len(job.warning_samples)
    if room > 0 and texts:
        job.warning_samples = [*job.warning_samples, *texts[:room]]
        job.save(update_fields=["warning_samples"])


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
        from gocua.imports.models import ImportReject

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
                )  # fmt: skip
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
    text = "" if cell is None else cell if cell.__class__ is str else str(cell)
    if _SURROGATE.search(text):
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


class SeenSet:
    """National IDs already met in this file, with a hash of their row and their line.

    Kept in a temporary on-disk SQLite file rather than a Python dict, so that memory stays flat
    however long the file is (a 10M-row dict would need about 1 GB). The file is opened on first
    use: by the parsing process when there is one (forked after this is made, it must not share
    a connection), else by this one."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="gocua-seen-")
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(Path(self._dir.name) / "seen.sqlite3")
            self._db.executescript(
                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;"
                "CREATE TABLE IF NOT EXISTS seen (nid INTEGER PRIMARY KEY, h INTEGER, line INTEGER);"
            )
        return self._db

    def meet(self, items: list[tuple[str, int, int]]) -> list[tuple[int, int] | None]:
        """Remember each (national ID, row hash, line) whose ID is new, in order; returns, for
        each item, None when it is the first with its ID, else the first one's (hash, line)."""
        db = self._connection()
        values = [(int(nid), h, line) for nid, h, line in items]
        new: set[int] = set()
        # INSERT OR IGNORE ... RETURNING tells which IDs are new without looking each one up;
        # only the (rare) repeats are looked up. 3 variables a row: SQLite allows 32,766.
        for start in range(0, len(values), 10_000):
            part = values[start : start + 10_000]
            rows = db.execute(
                f"INSERT OR IGNORE INTO seen VALUES {','.join(['(?,?,?)'] * len(part))} "
                "RETURNING nid",
                list(chain.from_iterable(part)),
            )
            new.update(nid for (nid,) in rows)
        repeated: list[int | None] = []  # per item: None for a first, else the ID it repeats
        for nid, _h, _line in values:
            if nid in new:
                new.discard(nid)  # the first row with this ID; any later one repeats it
                repeated.append(None)
            else:
                repeated.append(nid)
        later = [nid for nid in repeated if nid is not None]
        if not later:
            return [None] * len(values)
        prior = self._lookup(later)
        return [None if nid is None else prior[nid] for nid in repeated]

    def _lookup(self, nids: list[int]) -> dict[int, tuple[int, int]]:
        found: dict[int, tuple[int, int]] = {}
        for start in range(0, len(nids), 500):
            part = nids[start : start + 500]
            marks = ",".join("?" * len(part))
            for nid, h, line in self._connection().execute(
                f"SELECT nid, h, line FROM seen WHERE nid IN ({marks})", part
            ):
                found[nid] = (h, line)
        return found

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._dir.cleanup()


_STAGE_WORDS = {
    "none": "none",
    "chua dang ky": "none",
    "chua co": "none",
    "chua": "none",
    "registered": "registered",
    "da dang ky": "registered",
    "da thu nhan": "registered",
    "dang xu ly": "registered",
    "cho duyet": "registered",
    "approved": "approved",
    "da duyet": "approved",
    "da phe duyet": "approved",
    "failed": "failed",
    "khong dat": "failed",
    "tu choi": "failed",
    "khong duyet": "failed",
    "activated": "activated",
    "da kich hoat": "activated",
    "used": "used",
    "da su dung": "used",
}


def parse_stage(raw: object) -> str | None:
    text = fold(str(raw)) if raw is not None else ""
    if not text:
        return None
    stage = _STAGE_WORDS.get(text)
    if stage is None:
        raise RowError(
            "eid_stage",
            _(
                "“%(value)s” không phải trạng thái (Chưa đăng ký, Đã thu nhận, Đã duyệt, "
                "Không đạt, Đã kích hoạt, Đã sử dụng, hoặc none, registered, approved, failed, "
                "activated, used)"
            )
            % {"value": raw},
        )
    return stage


def _level_wrong(raw: object) -> str:
    return _("“%(value)s” không phải mức độ (0, 1 hoặc 2)") % {"value": raw}


def parse_level(raw: object) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = int(raw)
    else:
        digits = "".join(ch for ch in str(raw) if ch.isdigit())
        if not str(raw).strip():
            return None
        if len(digits) != 1:
            raise RowError("eid_level", _level_wrong(raw))
        value = int(digits)
    if value not in (0, 1, 2):
        raise RowError("eid_level", _level_wrong(raw))
    return value
