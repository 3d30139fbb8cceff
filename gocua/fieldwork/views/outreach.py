"""Outreach events (tuyên truyền): a month's events by day with totals, recorded and deleted by
managers."""

import datetime as dt
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import is_manager, units_for_user
from gocua.accounts.services import client_ip
from gocua.campaigns.forms import add_refusal
from gocua.campaigns.models import Team
from gocua.campaigns.selectors import current_campaign_for_user, period_text
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork import selectors, services
from gocua.fieldwork.forms import OutreachForm
from gocua.fieldwork.views._common import _404_unless, _managed_units, _manager_only


def _month(raw: str, today: dt.date) -> dt.date:
    """The month `?month=YYYY-MM` names (this month without one); 404 for one that is not a
    month of the years field work can happen in."""
    if not raw:
        return today.replace(day=1)
    try:
        year, month = (int(x) for x in raw.split("-"))
        first = dt.date(year, month, 1)
    except (ValueError, TypeError):
        raise Http404("month: YYYY-MM") from None
    _404_unless(2000 <= first.year <= 2100)
    return first


@login_required
@require_GET
def outreach_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Events of one month, grouped by day (a calendar read as a list), with totals."""
    user = request.user
    _404_unless(user.is_authenticated)
    today = timezone.localdate()
    first = _month(request.GET.get("month", ""), today)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    events = selectors.outreach_for(user, start=first, end=last)
    totals = selectors.outreach_totals(events)
    rows = list(events.order_by("date", "unit__path", "id"))
    return render(
        request,
        "fieldwork/outreach_list.html",
        {
            "days": [(day, list(group)) for day, group in groupby(rows, key=lambda e: e.date)],
            "totals": totals,
            "month": first,
            "prev": (first - dt.timedelta(days=1)).replace(day=1),
            "next": last + dt.timedelta(days=1),
            "is_manager": is_manager(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def outreach_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    _manager_only(request)
    user = request.user
    campaign = current_campaign_for_user(request.user)
    teams = Team.objects.filter(unit__in=units_for_user(user)).select_related("unit")
    teams = teams.filter(campaign=campaign).order_by("unit__path") if campaign else teams.none()
    form = OutreachForm(
        request.POST or None,
        units=_managed_units(user),
        teams=teams,
        initial={"date": timezone.localdate(), "unit": user.unit_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            event = services.outreach_record(
                actor=user, address=client_ip(request), **form.cleaned_data
            )
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Đã ghi hoạt động."))
            return redirect(f"{reverse('fieldwork:outreach')}?month={event.date:%Y-%m}")
    return render(
        request,
        "fieldwork/outreach_form.html",
        {"form": form, "period": period_text(campaign) if campaign else ""},
    )


@login_required
@require_POST
def outreach_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _manager_only(request)
    event = selectors.outreach_for(request.user).filter(pk=pk).first()
    if event is None:
        raise Http404
    try:
        services.outreach_delete(event=event, actor=request.user, address=client_ip(request))
    except NotAllowed:
        raise Http404 from None
    messages.success(request, _("Đã xoá hoạt động."))
    return redirect(f"{reverse('fieldwork:outreach')}?month={event.date:%Y-%m}")
