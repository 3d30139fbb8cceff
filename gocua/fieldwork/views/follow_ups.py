"""Follow-ups (hẹn quay lại): the open ones by due day, marked done or rescheduled."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import can_see_residents, is_manager
from gocua.accounts.services import audit_read, client_ip
from gocua.campaigns.models import Member
from gocua.campaigns.selectors import current_campaign_for_user, member_for_user, members_for_user
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork import selectors, services
from gocua.fieldwork.forms import RescheduleForm
from gocua.fieldwork.views._common import (
    LIST_PAGE,
    _404_unless,
    _next_url,
    _query,
)

DUE_TABS = ("today", "overdue", "upcoming")


@login_required
@require_GET
def follow_up_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open follow-ups: a field member's own, or a manager's unit (optionally one member's)."""
    user = request.user
    _404_unless(can_see_residents(user))
    due = request.GET.get("due", "today")
    _404_unless(due in DUE_TABS)
    campaign = current_campaign_for_user(request.user)
    member = None
    members: QuerySet[Member] = Member.objects.none()
    if is_manager(user):
        members = members_for_user(user, campaign) if campaign else Member.objects.none()
        raw = request.GET.get("member", "")
        if raw.isdigit():
            member = members.filter(pk=int(raw)).first()
            if member is None:
                raise Http404
    else:
        member = member_for_user(user, campaign) if campaign else None
    counts = {
        tab: selectors.follow_ups_for(user, due=tab, member=member).count() for tab in DUE_TABS
    }
    items = selectors.follow_ups_for(user, due=due, member=member)
    page = Paginator(items, LIST_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for f in page:
        f.late_days = (today - f.due_date).days
    shown = [f.resident_id for f in page if f.resident_id]
    if shown:
        audit_read(request, "follow_ups", shown)
    return render(
        request,
        "fieldwork/follow_ups.html",
        {
            "due": due,
            "counts": counts,
            "page": page,
            "member": member,
            "members": members.order_by("team__unit__path", "full_name")
            if is_manager(user)
            else [],
            # Rendered once: a widget rendered per row costs more than the query.
            "reschedule": _reschedule_inputs(),
            "query": _query(request),
            "back": request.get_full_path(),
            "today": timezone.localdate(),
        },
    )


def _reschedule_inputs() -> dict:
    form = RescheduleForm(auto_id=False, initial={"due_date": timezone.localdate()})
    return {
        "due_label": form["due_date"].label,
        "due": str(form["due_date"]),
        "time_label": form["time_of_day"].label,
        "time": str(form["time_of_day"]),
    }


def _follow_up_or_404(request: AuthenticatedHttpRequest, pk: int):
    _404_unless(can_see_residents(request.user))
    follow_up = selectors.follow_up_get_for_user(request.user, pk)
    if follow_up is None:
        raise Http404
    return follow_up


@login_required
@require_POST
def follow_up_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up_or_404(request, pk)
    try:
        services.follow_up_done(follow_up=follow_up, actor=request.user, address=client_ip(request))
    except NotAllowed:
        raise Http404 from None
    except OperationRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Đã đánh dấu hoàn thành."))
    return redirect(_next_url(request, reverse("fieldwork:follow_ups")))


@login_required
@require_POST
def follow_up_reschedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up_or_404(request, pk)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Hãy chọn ngày và buổi hẹn mới."))
    else:
        try:
            new = services.follow_up_reschedule(
                follow_up=follow_up,
                actor=request.user,
                address=client_ip(request),
                **form.cleaned_data,
            )
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Đã dời lịch sang %(day)s.") % {"day": f"{new.due_date:%d/%m/%Y}"}
            )
    return redirect(_next_url(request, reverse("fieldwork:follow_ups")))
