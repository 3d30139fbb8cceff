"""An import's job (ImportJob): the run around one file (made or taken up, resumed, finished,
audited), each chunk's commit with the job's progress, the cancel and the warnings kept."""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone

from gocua.accounts.services import audit_record
from gocua.imports.chunks import ParsedChunk
from gocua.imports.models import ImportJob
from gocua.imports.rejects import Rejects, rejects_write

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


class ImportCancelled(Exception):
    """The job's cancel was asked for: it stops between two chunks, keeping what it committed."""


WARNING_SAMPLES = 200  # warnings kept on the job for its page (all of them are counted)

PROGRESS_COUNTS = ("rows", "inserted", "updated", "unchanged", "rejected", "warnings", "stale")


def _failed(job, exc: BaseException, audit: Callable[[str], None]) -> None:
    """Mark a run that raised as failed, and audit it if the database still lets us."""
    _finish(job, ImportJob.Status.FAILED, str(exc) if isinstance(exc, Exception) else "")
    try:
        audit("failed")
    except Exception:  # the database may be what failed: the run's own error matters more
        log.exception("import %s: could not write the audit entry of the failure", job.pk)


def import_run(
    *,
    kind: str,
    table,
    path: str,
    user,
    edition: int | None,
    dry_run: bool,
    rejects_path: str | None,
    body: Callable[..., ImportSummary],
    request=None,
    file_name: str | None = None,
    job=None,
) -> ImportSummary:
    """The ImportJob around one run over one file: made (or, for a queued job, taken up; a job
    a killed worker left resumes after its last committed chunk, its counts restored), marked
    done, dry run, cancelled or failed (an interrupted run stays visible as failed), its rejects
    written to `rejects_path` when asked, and audited (the command line, `user=None`, as acting
    with the whole installation's authority). `body(job, rejects, summary)` does the work,
    adding to `summary`, and returns it."""
    job = _job_running(
        job,
        table,
        kind=kind,
        path=path,
        file_name=file_name,
        user=user,
        edition=edition,
        dry_run=dry_run,
        rejects_path=rejects_path,
    )
    summary = _summary_so_far(job, kind)
    audit = partial(
        _audit_run, job, summary, kind=kind, user=user, request=request, dry_run=dry_run
    )
    rejects = Rejects(job)
    try:
        body(job, rejects, summary)
    except ImportCancelled:
        _finish(job, ImportJob.Status.CANCELLED)
        audit("cancelled")
        return summary
    except BaseException as exc:
        _failed(job, exc, audit)
        raise
    finally:
        table.close()
    if rejects_path:
        rejects_write(job, rejects_path)
    summary.rejects_file = rejects_path
    _finish(job, ImportJob.Status.DRY_RUN if dry_run else ImportJob.Status.DONE)
    audit("dry_run" if dry_run else "done")
    log.info("%s import %s: %s", kind, job.pk, summary.as_dict())
    return summary


def _job_running(
    job: ImportJob | None,
    table,
    *,
    kind: str,
    path: str,
    file_name: str | None,
    user,
    edition: int | None,
    dry_run: bool,
    rejects_path: str | None,
) -> ImportJob:
    """The job of this run, marked running with the file's sheet, notes and header: a queued
    job taken up (or one a killed worker left, resumed), else a new one."""
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
    return job


def _summary_so_far(job: ImportJob, kind: str) -> ImportSummary:
    """The job's counts as committed (a resumed job goes on from them; a new one has none)."""
    return ImportSummary(
        **{name: getattr(job, name) for name in PROGRESS_COUNTS if name != "stale"},
        stale=job.stale if kind == ImportJob.Kind.STAGES else None,
        job_id=job.pk,
    )


def _audit_run(
    job: ImportJob,
    summary: ImportSummary,
    outcome: str,
    *,
    kind: str,
    user,
    request,
    dry_run: bool,
) -> None:
    """The run's audit entry with its outcome and counts (the command line, `user=None`, as
    acting with the whole installation's authority)."""
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


def _finish(job: ImportJob, status: str, message: str = "") -> None:
    job.status, job.finished_at, job.message = status, timezone.now(), message[:2000]
    job.save(update_fields=["status", "finished_at", "message"])


def save_progress(job, summary: ImportSummary, *, last_line: int, progress: float) -> None:
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
    summary: ImportSummary,
    rejects: Rejects,
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
