"""Import pages: upload a file (queued for the worker), follow its job, cancel it, download its
rejected rows. Scoped: a unit manager sees their own jobs, a province admin those of their
province and of the command line."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import is_manager
from gocua.accounts.services import audit_record
from gocua.imports.forms import ImportForm
from gocua.imports.models import ImportJob
from gocua.imports.readers import ImportFileError
from gocua.imports.rejects import rejects_rows
from gocua.imports.services import (
    import_cancel,
    import_jobs_for_user,
    import_upload,
    may_read_rejects,
)
from gocua.lib.spreadsheet import csv_writer


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Upload a resident list or a status extract for the user's own units: the import runs in
    the background and this page follows it."""
    if not is_manager(request.user):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            job = import_upload(
                user=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                request=request,
            )
        except ImportFileError as exc:
            # The message names the file by its server path; show the reason only.
            error = str(exc).split(": ", 1)[-1]
        else:
            return redirect("imports:job", pk=job.pk)
    return render(
        request,
        "imports/import.html",
        {"form": form, "error": error, "jobs": import_jobs_for_user(request.user)[:30]},
    )


def _job_or_404(request: AuthenticatedHttpRequest, pk: int) -> ImportJob:
    if not is_manager(request.user):
        raise Http404
    job = import_jobs_for_user(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def _eta_seconds(job: ImportJob) -> int | None:
    """Seconds left at the pace so far (None before the first chunk)."""
    if job.finished or job.progress <= 0.01 or not job.started_at:
        return None
    elapsed = (timezone.now() - job.started_at).total_seconds()
    return max(0, round(elapsed / job.progress * (1 - job.progress)))


def _job_context(request: AuthenticatedHttpRequest, job: ImportJob) -> dict[str, Any]:
    return {
        "job": job,
        "percent": 100 if job.status == ImportJob.Status.DONE else round(job.progress * 100),
        "eta": _eta_seconds(job),
        "rejects": may_read_rejects(user=request.user, job=job) and job.rejected > 0,
    }


@login_required
@require_GET
def job_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    return render(request, "imports/job.html", _job_context(request, job))


@login_required
@require_GET
def job_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The job's progress panel alone, polled by the page (htmx) until the job ends."""
    job = _job_or_404(request, pk)
    return render(request, "imports/_job_progress.html", _job_context(request, job))


@login_required
@require_POST
def job_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if not may_read_rejects(user=request.user, job=job):  # its owner, or the administrator
        raise Http404
    if import_cancel(job=job, user=request.user, request=request):
        messages.info(request, _("Đã yêu cầu dừng: dữ liệu đã ghi được giữ nguyên."))
    return redirect("imports:job", pk=job.pk)


@login_required
@require_GET
def rejects_download(request: AuthenticatedHttpRequest, pk: int) -> StreamingHttpResponse:
    job = _job_or_404(request, pk)
    if not may_read_rejects(user=request.user, job=job):
        raise Http404
    audit_record(
        user=request.user,
        action="export",
        object_type="import_rejects",
        object_id=job.pk,
        unit=request.user.unit,
        request=request,
        detail={"rows": job.rejected},
    )
    writer = csv_writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rejects_rows(job)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="loi-nhap-{job.pk}.csv"'
    return response
