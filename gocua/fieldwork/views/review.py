"""What waits for a manager's review: deaths and moves reported from the field (to confirm or
dismiss), and field claims the extracts have not confirmed yet."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.services import audit_read, client_ip
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork import selectors, services
from gocua.fieldwork.views._common import LIST_PAGE, _manager_only

SKIPPED_SHOWN = 200


@login_required
@require_GET
def to_confirm(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Deaths and moves reported from the field, waiting for a manager's decision."""
    _manager_only(request)
    page = Paginator(selectors.status_reports_for(request.user), LIST_PAGE).get_page(
        request.GET.get("page")
    )
    if page:
        audit_read(request, "status_reports", [o.resident_id for o in page])
    return render(request, "fieldwork/to_confirm.html", {"page": page})


def _report_action(request: AuthenticatedHttpRequest, pk: int, action) -> HttpResponse:
    _manager_only(request)
    outcome = selectors.status_report_get_for_user(request.user, pk)
    if outcome is None:
        raise Http404
    try:
        action(outcome=outcome, actor=request.user, address=client_ip(request))
    except NotAllowed:
        raise Http404 from None
    except OperationRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã cập nhật."))
    return redirect("fieldwork:to_confirm")


@login_required
@require_POST
def to_confirm_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _report_action(request, pk, services.status_report_confirm)


@login_required
@require_POST
def to_confirm_dismiss(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _report_action(request, pk, services.status_report_dismiss)


@login_required
@require_GET
def claims(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Field claims the extracts have not confirmed yet, beside the confirmed stage; claims
    that skipped a step (recorded as the step they can really be) are listed apart."""
    _manager_only(request)
    claims = selectors.open_claims_for(request.user)
    page = Paginator(claims.filter(skipped_from=""), LIST_PAGE).get_page(request.GET.get("page"))
    skipped = list(claims.exclude(skipped_from="")[:SKIPPED_SHOWN])
    shown = [o.resident_id for o in [*page, *skipped]]
    if shown:
        audit_read(request, "claims", shown)
    return render(
        request,
        "fieldwork/claims.html",
        {"page": page, "skipped": skipped, "skipped_shown": SKIPPED_SHOWN},
    )
