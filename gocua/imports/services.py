"""Imports started from the web page by a unit manager (the command line calls the import
functions directly)."""

import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from gocua.accounts.models import User
from gocua.accounts.selectors import is_manager, is_unrestricted
from gocua.imports.citizens import citizens_import
from gocua.imports.common import ImportSummary
from gocua.imports.models import ImportJob
from gocua.imports.stages import stages_import


@dataclass
class UploadResult:
    job: ImportJob
    summary: ImportSummary
    notes: list[str]
    warnings: list[str]  # national IDs and phones already masked


def import_upload(
    *, user: User, kind: str, upload: UploadedFile, dry_run: bool, request=None
) -> UploadResult:
    """Import an uploaded file for `user`'s jurisdiction: rows about other units, their people
    or their households are rejected with that reason. The upload itself is deleted afterwards
    (it holds personal data); the rejects file stays for the user to download. Raises
    ImportFileError (nothing written) when the file cannot be read, PermissionError for users
    who may not import. Audited by the import itself."""
    if not is_manager(user):
        raise PermissionError("only unit managers and the province command import files")
    folder = Path(settings.IMPORT_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / ("upload.xlsx" if upload.name.lower().endswith(".xlsx") else "upload.csv")
    with source.open("wb") as fh:
        for piece in upload.chunks():
            fh.write(piece)
    rejects = folder / "rejects.csv"
    warnings: list[str] = []
    options = dict(
        dry_run=dry_run, rejects_path=str(rejects), user=user, request=request,
        file_name=upload.name, on_warning=warnings.append, background=False,
    )  # fmt: skip
    try:
        if kind == ImportJob.Kind.CITIZENS:
            edition = user.unit.edition if user.unit_id else _only_edition()
            summary, notes = citizens_import(str(source), edition=edition, **options)
        else:
            summary, notes = stages_import(str(source), **options)
    finally:
        source.unlink(missing_ok=True)
    job = ImportJob.objects.get(rejects_file=str(rejects))
    return UploadResult(job, summary, notes, warnings[:200])


def rejects_path_for(*, user: User, job: ImportJob) -> Path | None:
    """The job's rejects file if `user` may have it (the person who imported, or a province
    admin), else None: rejected rows hold personal data."""
    if not job.rejects_file or not Path(job.rejects_file).exists():
        return None
    if job.user_id == user.pk or is_unrestricted(user):
        return Path(job.rejects_file)
    return None


def _only_edition() -> int:
    from gocua.geo.selectors import resolve_edition

    return resolve_edition(None)
