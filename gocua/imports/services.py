"""Imports started from the web page by a unit manager: the file is kept in the shared storage,
a job is queued, and the worker runs it (gocua.imports.tasks). The command line runs the
import functions directly, in its own process; both make the same ImportJob rows."""

import datetime as dt
import uuid
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation

from gocua.accounts.models import Role, User
from gocua.accounts.selectors import effective_role, is_manager, is_unrestricted, units_for_user
from gocua.accounts.services import audit_record
from gocua.geo.selectors import resolve_edition
from gocua.imports.models import ImportJob
from gocua.imports.readers import open_table
from gocua.worker.services import enqueue_after_commit


def import_upload(
    *,
    user: User,
    kind: str,
    upload: UploadedFile,
    dry_run: bool,
    request: HttpRequest | None = None,
) -> ImportJob:
    """Queue an uploaded file for import in `user`'s jurisdiction (rows about other units,
    their people or their households will be rejected with that reason). The file's header is
    read at once, so a file that cannot be read is refused here, nothing queued
    (ImportFileError); PermissionError for users who may not import. The file waits in the
    shared storage until its job ends, then is deleted (it holds personal data). Audited when
    queued (with the uploader's address) and when it ends."""
    if not is_manager(user):
        raise PermissionError("only unit managers and the province command import files")
    name = upload.name or ""
    suffix = ".xlsx" if name.lower().endswith(".xlsx") else ".csv"
    stored = default_storage.save(f"imports/{uuid.uuid4().hex}/upload{suffix}", upload)
    try:
        open_table(default_storage.path(stored), kind=kind).close()
    except Exception:
        default_storage.delete(stored)
        raise
    edition = user.unit.edition if user.unit is not None else _only_edition()
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            file_name=name[-255:],
            user=user,
            edition=edition if kind == ImportJob.Kind.CITIZENS else None,
            dry_run=dry_run,
            status=ImportJob.Status.QUEUED,
            upload=stored,
            size_bytes=upload.size or 0,
            language=translation.get_language() or "",
        )
        audit_record(
            user=user,
            action="import",
            object_type="import_job",
            object_id=job.pk,
            unit=user.unit,
            request=request,
            detail={
                "kind": kind,
                "file": job.file_name,
                "dry_run": dry_run,
                "outcome": "queued",
                "bytes": job.size_bytes,
            },
        )
        enqueue_after_commit("gocua.imports.tasks.import_run", job.pk)
    return job


def import_cancel(*, job: ImportJob, user: User, request: HttpRequest | None = None) -> bool:
    """Ask a queued or running job to stop: it stops after the chunk it is writing (what it
    committed stays; importing the file again reaches the same end as one run). Returns
    whether it was still running. Its owner or an unrestricted administrator; audited."""
    if job.finished:
        return False
    ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    if job.status == ImportJob.Status.QUEUED:
        # Not started: nothing to wait for.
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
            status=ImportJob.Status.CANCELLED
        )
        upload_discard(job)
    audit_record(
        user=user,
        action="update",
        object_type="import_job",
        object_id=job.pk,
        unit=user.unit,
        request=request,
        detail={"cancel": True},
    )
    return True


def upload_discard(job: ImportJob) -> None:
    """Delete a job's stored file (it holds personal data) once the job has ended."""
    if job.upload:
        default_storage.delete(job.upload)
        folder = Path(job.upload).parent.as_posix()
        if default_storage.exists(folder) and not any(default_storage.listdir(folder)):
            default_storage.delete(folder)
        ImportJob.objects.filter(pk=job.pk).update(upload="")
        job.upload = ""


FINISHED_LATELY = dt.timedelta(days=2)


def imports_finished_lately(
    user: User, *, now: dt.datetime | None = None, limit: int = 20
) -> list[ImportJob]:
    """The imports the user may follow that finished in the last two days, newest first (the
    officer's Today page)."""
    now = now or timezone.now()
    jobs = import_jobs_for_user(user).filter(
        status__in=ImportJob.FINISHED, finished_at__gte=now - FINISHED_LATELY
    )
    return list(jobs.order_by("-finished_at", "-id")[:limit])


def import_jobs_for_user(user: User) -> QuerySet[ImportJob]:
    """The jobs a unit manager may follow: their own; a province admin also those of the
    accounts of their province and the command line's (which has no user); everything for an
    unrestricted administrator."""
    jobs = ImportJob.objects.select_related("user").order_by("-id")
    if is_unrestricted(user):
        return jobs
    if not is_manager(user):
        return jobs.none()
    if effective_role(user) == Role.PROVINCE_ADMIN:
        return jobs.filter(
            Q(user=user) | Q(user__isnull=True) | Q(user__unit__in=units_for_user(user))
        )
    return jobs.filter(user=user)


def may_read_rejects(*, user: User, job: ImportJob) -> bool:
    """Rejected rows hold personal data: the person who imported, or an unrestricted
    administrator."""
    return job.user_id == user.pk or is_unrestricted(user)


def _only_edition() -> int:

    return resolve_edition(None)
