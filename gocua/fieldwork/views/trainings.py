"""Trainings (tập huấn): sessions, who attended and passed, commune staff added by name."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.services import client_ip
from gocua.campaigns.forms import add_refusal
from gocua.campaigns.selectors import current_campaign_for_user, period_text
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork import selectors, services
from gocua.fieldwork.forms import StaffForm, TrainingForm
from gocua.fieldwork.models import TrainingAttendance
from gocua.fieldwork.views._common import _managed_units, _manager_only

ATTENDANCE_CHOICES = ("absent", "attended", "passed")


@login_required
@require_GET
def training_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sessions, and who in each team has not passed a training yet."""
    _manager_only(request)
    campaign = current_campaign_for_user(request.user)
    page = Paginator(selectors.trainings_for(request.user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "fieldwork/training_list.html",
        {
            "page": page,
            "untrained": selectors.untrained_by_team(request.user, campaign),
            "campaign": campaign,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def training_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    _manager_only(request)
    user = request.user
    campaign = current_campaign_for_user(request.user)
    form = TrainingForm(
        request.POST or None,
        units=_managed_units(user),
        initial={"date": timezone.localdate(), "unit": user.unit_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.training_create(
                actor=user, campaign=campaign, address=client_ip(request), **form.cleaned_data
            )
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Đã tạo buổi tập huấn. Ghi danh sách tham dự bên dưới."))
            return redirect("fieldwork:training", pk=session.pk)
    return render(
        request,
        "fieldwork/training_form.html",
        {"form": form, "period": period_text(campaign) if campaign else ""},
    )


@login_required
@require_http_methods(["GET", "POST"])
def training_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Attendance: every roster member at or under the session's unit (absent, attended,
    passed) and commune staff added by name."""
    _manager_only(request)
    session = selectors.training_get_for_user(request.user, pk)
    if session is None:
        raise Http404
    campaign = current_campaign_for_user(request.user)
    candidates = selectors.training_candidates(session, campaign)
    if request.method == "POST":
        results: dict[int, bool | None] = {}
        for m in candidates:
            value = request.POST.get(f"m_{m.pk}", "absent")
            if value not in ATTENDANCE_CHOICES:
                value = "absent"
            results[m.pk] = None if value == "absent" else value == "passed"
        try:
            attending, passed = services.training_attendance_set(
                session=session, results=results, actor=request.user, address=client_ip(request)
            )
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Đã lưu: %(a)d người tham dự, %(p)d người đạt.") % {"a": attending, "p": passed},
            )
        return redirect("fieldwork:training", pk=session.pk)
    attendance = {a.member_id: a for a in session.attendances.all() if a.member_id}
    rows = []
    for m in candidates:
        a = attendance.get(m.pk)
        rows.append((m, "absent" if a is None else "passed" if a.passed else "attended"))
    staff = [a for a in session.attendances.filter(member__isnull=True).order_by("name")]
    return render(
        request,
        "fieldwork/training_detail.html",
        {"session": session, "rows": rows, "staff": staff, "staff_form": StaffForm()},
    )


@login_required
@require_POST
def training_staff_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _manager_only(request)
    session = selectors.training_get_for_user(request.user, pk)
    if session is None:
        raise Http404
    form = StaffForm(request.POST)
    if form.is_valid():
        try:
            services.training_staff_add(
                session=session, actor=request.user, address=client_ip(request), **form.cleaned_data
            )
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Hãy nhập họ và tên."))
    return redirect("fieldwork:training", pk=session.pk)


@login_required
@require_POST
def training_staff_remove(
    request: AuthenticatedHttpRequest, pk: int, attendance_id: int
) -> HttpResponse:
    _manager_only(request)
    session = selectors.training_get_for_user(request.user, pk)
    if session is None:
        raise Http404
    attendance = TrainingAttendance.objects.filter(session=session, pk=attendance_id).first()
    if attendance is None:
        raise Http404
    services.training_attendance_remove(
        attendance=attendance, actor=request.user, address=client_ip(request)
    )
    return redirect("fieldwork:training", pk=session.pk)
