"""Home support (hỗ trợ tại nhà): the requests of a manager's units, and each one's steps:
scheduled with police officers, done or cancelled."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.services import audit_read, client_ip
from gocua.campaigns.forms import add_refusal
from gocua.campaigns.selectors import current_campaign, current_campaign_for_user, period_text
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork import selectors, services
from gocua.fieldwork.forms import CloseForm, DoneForm, HomeSupportScheduleForm
from gocua.fieldwork.models import HomeSupportRequest
from gocua.fieldwork.views._common import (
    LIST_PAGE,
    _404_unless,
    _manager_only,
    _query,
)
from gocua.people.funnel import age_on


@login_required
@require_GET
def home_support_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Requests of the user's unit: the oldest residents first, then the longest waiting."""
    _manager_only(request)
    status = request.GET.get("status", "open")
    _404_unless(status in ("open", "closed"))
    items = selectors.home_support_for(request.user, status=status)
    page = Paginator(items, LIST_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for r in page:
        r.age = age_on(r.resident.birth_date, today)
        r.waiting_days = (today - timezone.localdate(r.requested_at)).days
    if page:
        audit_read(request, "home_support", [r.resident_id for r in page])
    return render(
        request,
        "fieldwork/home_support_list.html",
        {"page": page, "status": status, "today": today, "query": _query(request)},
    )


def _home_support_or_404(request: AuthenticatedHttpRequest, pk: int) -> HomeSupportRequest:
    _manager_only(request)
    item = selectors.home_support_get_for_user(request.user, pk)
    if item is None:
        raise Http404
    return item


@login_required
@require_GET
def home_support_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    audit_read(
        request,
        "home_support",
        [item.resident_id],
        unit=item.resident.unit,
        detail={"request": item.pk},
    )
    return _home_support_page(request, item)


def _home_support_page(
    request: AuthenticatedHttpRequest, item: HomeSupportRequest, **forms
) -> HttpResponse:
    campaign = current_campaign_for_user(request.user)
    police = selectors.police_for_resident(item.resident, campaign)
    schedule = forms.get("schedule") or HomeSupportScheduleForm(
        police=police,
        initial={
            "date": item.scheduled_for or timezone.localdate() + dt.timedelta(days=1),
            "officers": list(item.officers.all()),
        },
    )
    today = timezone.localdate()
    day = _schedule_day(schedule)
    return render(
        request,
        "fieldwork/home_support_detail.html",
        {
            "item": item,
            "age": age_on(item.resident.birth_date, today),
            "waiting_days": (today - timezone.localdate(item.requested_at)).days,
            "schedule_form": schedule,
            "officer_day": selectors.officers_booked_on(
                request.user,
                police,
                day,
                exclude=item.pk,
                limit=campaign.home_support_per_officer_day if campaign else 0,
            )
            if campaign and day
            else [],
            "officer_day_date": day,
            "day_limit": campaign.home_support_per_officer_day if campaign else None,
            "done_form": forms.get("done") or DoneForm(),
            "cancel_form": forms.get("cancel") or CloseForm(),
            "period": period_text(campaign) if campaign else "",
        },
    )


def _schedule_day(form: HomeSupportScheduleForm) -> dt.date | None:
    """The day the scheduling form is about: what was typed if it parses, else its default."""
    if form.is_bound:
        try:
            return form.fields["date"].clean(form.data.get("date"))
        except ValidationError:
            return None
    return form.initial.get("date")


def _home_support_step(
    request: AuthenticatedHttpRequest, item, form, *, slot: str, done: str, apply
) -> HttpResponse:
    """One step of the home-support state machine from a form: the service decides whether
    the step is allowed (and audits it); a refusal comes back on the form."""
    if form.is_valid():
        try:
            apply(form.cleaned_data)
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, done)
            return redirect("fieldwork:home_support_detail", pk=item.pk)
    return _home_support_page(request, item, **{slot: form})


@login_required
@require_POST
def home_support_schedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    police = selectors.police_for_resident(item.resident, current_campaign(item.resident.unit))
    form = HomeSupportScheduleForm(request.POST, police=police)
    if "show_day" in request.POST:  # "Xem lịch ngày này": the officers' day, nothing saved
        return _home_support_page(request, item, schedule=form)
    return _home_support_step(
        request,
        item,
        form,
        slot="schedule",
        done=_("Đã xếp lịch hỗ trợ tại nhà."),
        apply=lambda data: services.home_support_schedule(
            request=item,
            date=data["date"],
            officers=list(data["officers"]),
            actor=request.user,
            over_limit_ok=data["over_limit_ok"],
            address=client_ip(request),
        ),
    )


@login_required
@require_POST
def home_support_done(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    return _home_support_step(
        request,
        item,
        DoneForm(request.POST),
        slot="done",
        done=_("Đã hoàn thành hỗ trợ tại nhà."),
        apply=lambda data: services.home_support_done(
            request=item, note=data["note"], actor=request.user, address=client_ip(request)
        ),
    )


@login_required
@require_POST
def home_support_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    return _home_support_step(
        request,
        item,
        CloseForm(request.POST),
        slot="cancel",
        done=_("Đã huỷ yêu cầu."),
        apply=lambda data: services.home_support_cancel(
            request=item, reason=data["reason"], actor=request.user, address=client_ip(request)
        ),
    )
