from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from gocua.accounts.selectors import is_manager, is_unrestricted
from gocua.accounts.services import audit_record
from gocua.imports.forms import ImportForm
from gocua.imports.models import ImportJob
from gocua.imports.readers import ImportFileError
from gocua.imports.services import import_upload, rejects_path_for


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a resident list or a status extract for the user's own units."""
    if not is_manager(request.user):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    result = error = None
    if request.method == "POST" and form.is_valid():
        try:
            result = import_upload(
                user=request.user, kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"],
                request=request,
            )  # fmt: skip
        except ImportFileError as exc:
            # The message names the file by its server path; show the reason only.
            error = str(exc).split(": ", 1)[-1]
        else:
            form = ImportForm()
    jobs = ImportJob.objects.select_related("user").order_by("-id")
    if not is_unrestricted(request.user):
        jobs = jobs.filter(user=request.user)
    return render(request, "imports/import.html", {
        "form": form, "result": result, "error": error, "jobs": jobs[:20],
    })  # fmt: skip


@login_required
@require_GET
def rejects_download(request: HttpRequest, pk: int) -> FileResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    path = rejects_path_for(user=request.user, job=job)
    if path is None:
        raise Http404
    audit_record(
        user=request.user, action="export", object_type="import_rejects", object_id=job.pk,
        unit=request.user.unit, request=request,
    )  # fmt: skip
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"loi-nhap-{job.pk}.csv",
                        content_type="text/csv; charset=utf-8")  # fmt: skip
