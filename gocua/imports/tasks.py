"""The import a unit manager started in the web, run by the worker."""

import logging
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from gocua.imports.citizens import citizens_import
from gocua.imports.models import ImportJob
from gocua.imports.readers import ImportFileError
from gocua.imports.services import upload_discard
from gocua.imports.stages import stages_import

log = logging.getLogger("gocua.imports")

# What the uploader reads when the worker cannot find their file: a server set-up mistake, said
# so that they can pass it on (the folder's path stays in the server's log).
NOT_SHARED = _(
    "Máy chạy nền không tìm thấy tệp đã tải lên: các máy chủ web và máy chạy nền phải dùng chung "
    "một thư mục GOCUA_FILES_DIR. Hãy báo quản trị hệ thống, rồi tải tệp lên lại."
)


@task()
def import_run(job_id: int) -> dict:
    """Run (or, after a killed worker, resume) a queued web import, its rejects and warnings
    worded in the language of who started it. Its file is deleted when the job ends, however it
    ends; a job that was killed keeps it for the worker that takes the job up again."""
    job = ImportJob.objects.select_related("user__unit").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _run(job)


def _run(job: ImportJob) -> dict:
    if job.finished:  # ended meanwhile (cancelled before it started, or a repeat)
        upload_discard(job)
        return {"status": job.status}
    if not job.upload or not default_storage.exists(job.upload):
        # The web server that took the file keeps it in its GOCUA_FILES_DIR: a worker on another
        # machine sees it only when that folder is shared (an NFS mount), the same path on all.
        log.error(
            "import %s: its uploaded file %s is not in this worker's GOCUA_FILES_DIR (%s): "
            "the web servers and workers must share that folder",
            job.pk,
            job.upload,
            settings.MEDIA_ROOT,
        )
        return _failed(job, str(NOT_SHARED))  # in the language of who started the job
    run = citizens_import if job.kind == ImportJob.Kind.CITIZENS else stages_import
    options: dict[str, Any] = (
        {"edition": job.edition} if job.kind == ImportJob.Kind.CITIZENS else {}
    )
    try:
        summary, _notes = run(
            default_storage.path(job.upload),
            dry_run=job.dry_run,
            user=job.user,
            file_name=job.file_name,
            job=job,
            **options,
        )
    except ImportFileError as exc:
        # The header was read when it was queued; the rest of the file may still be broken.
        message = str(exc).split(": ", 1)[-1]
        log.warning("import %s: %s", job.pk, message)
        return _failed(job, message)
    finally:
        job.refresh_from_db()
        if job.finished:
            upload_discard(job)
    return summary.as_dict()


def _failed(job: ImportJob, message: str) -> dict:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, message=message, finished_at=timezone.now()
    )
    return {"status": ImportJob.Status.FAILED}
