"""Field-work pages: worklists (screen and A4 print), visits, follow-ups, home support, reports
to confirm, claims, outreach events and trainings.

Scoped through gocua.accounts.selectors: what is outside the user's jurisdiction answers 404.
Field members see their own worklist and follow-ups and record their visits; unit managers see
and manage their subtree; viewers see outreach aggregates only. Writes call a service, are
audited and redirect.
"""

import datetime as dt
import uuid
from itertools import groupby
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gocua.accounts import privacy
from gocua.accounts.selectors import (
    assigned_hamlets,
    can_see_residents,
    is_manager,
    units_for_user,
)
from gocua.accounts.services import audit_record, audit_view
from gocua.campaigns.forms import add_refusal
from gocua.campaigns.models import Member, Team
from gocua.campaigns.selectors import (
    GAP_LABELS,
    TEAM_LEVELS,
    age_on,
    current_campaign,
    current_campaign_for_user,
    hamlets_of,
    member_for_user,
    members_for_user,
    period_text,
)
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork import selectors, services
from gocua.fieldwork.forms import (
    CloseForm,
    DoneForm,
    HomeSupportScheduleForm,
    OutreachForm,
    RescheduleForm,
    StaffForm,
    TrainingForm,
    VisitForm,
    WorklistFilterForm,
)
from gocua.fieldwork.models import HomeSupportRequest, Outcome, TrainingAttendance
from gocua.geo.models import AdminUnit, Level
from gocua.people.models import Resident, Stage

WORKLIST_PAGE = 100
STAGE_LABELS = dict(Stage.choices)
OUTCOME_LABELS = dict(Outcome.choices)
TICKS = '<td class="tick">☐</td>' * 6 + "<td></td>"  # constant HTML, no data
PRINT_LIMIT = 10_000  # households: a whole district prints at once (bench/print.py)
LIST_PAGE = 100
STAGE_LABELS = dict(Stage.choices)
OUTCOME_LABELS = dict(Outcome.choices)
TICKS = '<td class="tick">☐</td>' * 6 + "<td></td>"  # constant HTML, no data


def _404_unless(condition: bool) -> None:
    if not condition:
        raise Http404


def _audit(request: HttpRequest, action: str, obj, unit, **detail) -> None:
    audit_record(
        user=request.user,
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        unit=unit,
        request=request,
        detail=detail or None,
    )


def _audit_list(request: HttpRequest, object_type: str, residents: list[int]) -> None:
    """A list page that showed residents: one audit entry naming them."""
    if residents:
        audit_view(
            user=request.user, object_type=object_type, unit=request.user.unit,
            residents=residents, request=request,
        )  # fmt: skip


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _query(request: HttpRequest) -> str:
    """The list's filters without the page number, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# No list has more pages than this; a larger number is not a page (and its offset would
# overflow the database's integers).
MAX_PAGE = 100_000


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    if not (raw.isdigit() and raw.isascii()):
        return 1
    _404_unless(len(raw) <= 6 and int(raw) <= MAX_PAGE)
    return max(1, int(raw))


# --- worklists -------------------------------------------------------------------------------


def _worklist_request(request: HttpRequest) -> dict:
    """Parse the worklist's filters for this user; 404 for anything out of scope."""
    user = request.user
    _404_unless(can_see_residents(user))
    campaign = current_campaign_for_user(request.user)
    manager = is_manager(user)
    data = request.GET
    own_member = None
    team = None
    if manager:
        teams = Team.objects.filter(unit__in=units_for_user(user)).select_related("unit")
        teams = teams.filter(campaign=campaign) if campaign else teams.none()
        raw_team = data.get("team", "")
        raw_member = data.get("member", "")
        if raw_team.isdigit():
            team = teams.filter(pk=int(raw_team)).first()
            _404_unless(team is not None)
        elif raw_member.isdigit() and campaign is not None:
            member = members_for_user(user, campaign).filter(pk=int(raw_member)).first()
            _404_unless(member is not None)
            team = member.team
        elif user.unit_id and campaign is not None:
            team = teams.filter(unit_id=user.unit_id).first()
            if team is not None:  # show the team the list defaults to
                data = data.copy()
                data["team"] = str(team.pk)
        hamlets = hamlets_of(team.unit) if team else AdminUnit.objects.none()
        members = (
            team.members.filter(active=True).order_by("full_name")
            if team
            else Member.objects.none()
        )
        teams = teams.order_by("unit__path")
    else:
        own_member = member_for_user(user, campaign) if campaign else None
        teams = Team.objects.none()
        hamlets = assigned_hamlets(user).order_by("path")
        members = Member.objects.none()
    form = WorklistFilterForm(data, teams=teams, hamlets=hamlets, members=members)
    form.is_valid()
    for name in ("hamlet", "member", "gap", "flag"):
        _404_unless(name not in form.errors)  # an id out of scope, or a made-up code
    hamlet = form.cleaned_data.get("hamlet")
    member = form.cleaned_data.get("member")
    who: object = user
    scope = None
    if member is not None:
        who = member
        scope = [hamlet] if hamlet else None
    elif hamlet is not None:
        scope = [hamlet]
    elif team is not None:
        scope = hamlets
    elif manager:
        who = None  # a manager picks a team, a hamlet or a member first
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "campaign": campaign,
        "who": who,
        "hamlets": scope,
        "gap": form.cleaned_data.get("gap") or None,
        "flag": form.cleaned_data.get("flag") or None,
        "team": team,
        "member": member,
        "hamlet": hamlet,
        "own_member": own_member,
        "is_manager": manager,
        "query": query.urlencode(),
    }


def _labelled(households: list[dict]) -> list[dict]:
    """Add display labels once in Python: thousands of filter calls in a template cost more
    than the queries."""
    for h in households:
        for r in h["residents"]:
            r["gap_text"] = GAP_LABELS[r["gap"]]
            r["stage_text"] = STAGE_LABELS.get(r["eid_stage"], r["eid_stage"])
            r["flags_text"] = [selectors.FLAG_LABELS[f] for f in r["flags"]]
            r["outcome_text"] = OUTCOME_LABELS.get(r["last_outcome"], "")
            r["claim_text"] = STAGE_LABELS.get(r["open_claim"], "") if r["open_claim"] else ""
    return households


def _worklist_rows(ctx: dict, *, offset: int, limit: int) -> list[dict]:
    if ctx["who"] is None:
        return []
    return _labelled(
        selectors.worklist_households(
            ctx["who"],
            hamlets=ctx["hamlets"],
            gap=ctx["gap"],
            flag=ctx["flag"],
            campaign=ctx["campaign"],
            offset=offset,
            limit=limit,
            without_household=True,
        )
    )


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """Review (rà soát): households that still have work, by hamlet then address."""
    ctx = _worklist_request(request)
    page = _page_number(request)
    rows = _worklist_rows(ctx, offset=(page - 1) * WORKLIST_PAGE, limit=WORKLIST_PAGE + 1)
    shown = rows[:WORKLIST_PAGE]
    ctx.update(
        households=shown,
        page=page,
        has_next=len(rows) > WORKLIST_PAGE,
        residents=sum(len(h["residents"]) for h in shown),
        back_q=quote(request.get_full_path(), safe=""),
    )
    if shown:
        audit_view(
            user=request.user, object_type="worklist", request=request,
            unit=ctx["team"].unit if ctx["team"] else request.user.unit,
            residents=[r["id"] for h in shown for r in h["residents"]],
            detail={"households": len(shown), "page": page},
        )  # fmt: skip
    return render(request, "fieldwork/worklist.html", ctx)


def _print_phones(user, households: list[dict]) -> dict[int, str]:
    """{resident id: phone as the user may see it on paper}: one query; masked by the one
    phone rule (gocua.accounts.privacy), as on every list."""
    ids = [r["id"] for h in households for r in h["residents"]]
    return {
        person.pk: privacy.phone_for(user, person)
        for person in Resident.objects.filter(pk__in=ids).only("pk", "phone")
    }


def _print_sheets(user, households: list[dict]) -> list[dict]:
    """The print-out's sheets: one per hamlet, in the order the selector walks them (never
    re-sorted here), each household numbered within its hamlet with its residents' phones.
    Residents without a household come under their hamlet with no address."""
    phones = _print_phones(user, households)
    hamlets = {
        u["pk"]: u
        for u in AdminUnit.objects.filter(pk__in={h["hamlet_id"] for h in households}).values(
            "pk", "name", "parent__name"
        )
    }
    sheets: list[dict] = []
    for hamlet_id, group in groupby(households, key=lambda h: h["hamlet_id"]):
        unit = hamlets.get(hamlet_id, {})
        rows = []
        for number, household in enumerate(group, start=1):
            for r in household["residents"]:
                r["phone"] = phones.get(r["id"], "")
            rows.append({**household, "number": number, "span": len(household["residents"])})
        sheets.append(
            {
                "hamlet": unit.get("name") or rows[0]["hamlet"],
                "commune": unit.get("parent__name", ""),
                "households": rows,
                "people": sum(h["span"] for h in rows),
            }
        )
    return sheets


@login_required
@require_GET
def worklist_print(request: HttpRequest) -> HttpResponse:
    """The A4 landscape print-out for teams on paper: one hamlet per sheet, one line per
    person, the address once per household, masked IDs and phones, tick columns, the team,
    hamlet and date repeated on every page and a signature line at the foot of each."""
    ctx = _worklist_request(request)
    rows = _worklist_rows(ctx, offset=0, limit=PRINT_LIMIT + 1)
    shown = rows[:PRINT_LIMIT]
    ctx.update(
        truncated=len(rows) > PRINT_LIMIT,
        print_limit=PRINT_LIMIT,
        sheets=_print_sheets(request.user, shown),
        printed_at=timezone.localtime(),
        # The same empty tick boxes on every row: one string, not 7 nodes per row.
        ticks=mark_safe(TICKS),
    )
    audit_record(
        user=request.user,
        action="export",
        object_type="worklist",
        object_id=ctx["team"].pk if ctx["team"] else "",
        unit=ctx["team"].unit if ctx["team"] else None,
        request=request,
        detail={"households": len(shown)},
    )
    return render(request, "fieldwork/worklist_print.html", ctx)


# --- visits ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a visit: one outcome per resident. The hidden UUID makes a double submit
    record once."""
    user = request.user
    _404_unless(can_see_residents(user))
    household = selectors.household_for_visit(user, pk)
    _404_unless(household is not None)
    campaign = current_campaign_for_user(request.user)
    if is_manager(user):
        members = selectors.members_for_household(household, campaign)
        fixed = None
    else:
        fixed = member_for_user(user, campaign) if campaign else None
        _404_unless(fixed is not None)
        members = Member.objects.filter(pk=fixed.pk)
    residents = selectors.household_residents(household)

    def new_form(data=None) -> VisitForm:
        client_id = None if data is not None else _form_client_id(request, household.pk)
        return VisitForm(
            data, residents=residents, members=members, fixed_member=fixed, client_id=client_id
        )

    form = new_form(request.POST if request.method == "POST" else None)
    already_saved = False
    back = _next_url(request, reverse("fieldwork:worklist"))
    if request.method == "GET":
        audit_view(
            user=user, object_type="household", unit=household.unit, request=request,
            residents=[r.pk for r in residents], detail={"household": household.pk},
        )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        member = Member.objects.select_related("team__campaign").get(
            pk=form.cleaned_data["member"].pk
        )
        try:
            visit, created = services.visit_record(
                member=member,
                household=household,
                at=form.cleaned_data["at"],
                outcomes=form.outcomes(),
                client_id=form.cleaned_data["client_id"],
                recorded_by=user,
                note=form.cleaned_data["note"],
            )
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            if created:
                _audit(request, "create", visit, household.unit, outcomes=len(form.outcomes()))
                messages.success(
                    request, _("Đã ghi kết quả thăm hộ %(household)s.") % {"household": household}
                )
                _say_skipped_claims(request, visit)
                return redirect(back)
            # The same page sent again (a double click, or Back then Save): nothing recorded;
            # say so on the household's page, with a new form in case it is a new visit.
            already_saved = True
            _forget_client_id(request, household.pk)
            form = new_form()
    return render(
        request,
        "fieldwork/visit_form.html",
        {
            "household": household,
            "already_saved": already_saved,
            "form": form,
            "visits": selectors.household_visits(household),
            "no_member": not members.exists(),
            "campaign": campaign,
            "period": period_text(campaign) if campaign else "",
            "back": back,
            "today": timezone.localdate(),
        },
    )


# --- the officer's day -----------------------------------------------------------------------


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """A unit manager's landing page: what is due today in their jurisdiction."""
    _404_unless(is_manager(request.user))
    day = selectors.officer_day(request.user)
    shown = [f.resident_id for f in (*day["due_today"], *day["overdue"]) if f.resident_id]
    _audit_list(request, "today", shown + [r.resident_id for r in day["home_support"]])
    for f in day["overdue"]:
        f.late_days = (day["today"] - f.due_date).days
    return render(request, "fieldwork/today.html", day)


# Back after saving shows the form again, fetched anew (pages are not cached), so a UUID made
# per page view would differ from the saved one and a second Save would record a second
# visit. The form's UUID is therefore kept in the session per household until the visit it
# saved is older than this: within it, the form shown again carries the saved UUID and a
# repeated Save is recognised as the same visit.
RESUBMIT_WINDOW = dt.timedelta(minutes=15)
_CLIENT_IDS = "visit_form_ids"


def _form_client_id(request: HttpRequest, household_id: int) -> str:
    ids = request.session.get(_CLIENT_IDS, {})
    kept = ids.get(str(household_id))
    if kept and not selectors.visit_saved_before(kept, timezone.now() - RESUBMIT_WINDOW):
        return kept
    ids.pop(str(household_id), None)
    ids[str(household_id)] = str(uuid.uuid4())
    request.session[_CLIENT_IDS] = dict(list(ids.items())[-20:])  # the last few households
    return ids[str(household_id)]


def _forget_client_id(request: HttpRequest, household_id: int) -> None:
    ids = request.session.get(_CLIENT_IDS, {})
    if ids.pop(str(household_id), None):
        request.session[_CLIENT_IDS] = ids


def _say_skipped_claims(request: HttpRequest, visit) -> None:
    """A claim that skipped a step is recorded as the step it can really be: say which."""
    for o in visit.outcomes.exclude(skipped_from="").select_related("resident"):
        messages.warning(
            request,
            _(
                "%(name)s: trạng thái chính thức là “%(stage)s”, chưa thể “%(claimed)s”; kết quả "
                "được ghi là “%(recorded)s” (vượt bước) và chờ đối soát."
            )
            % {
                "name": o.resident.full_name,
                "stage": STAGE_LABELS.get(o.resident.eid_stage, o.resident.eid_stage),
                "claimed": STAGE_LABELS.get(o.skipped_from, o.skipped_from),
                "recorded": STAGE_LABELS.get(o.claimed_stage, o.claimed_stage),
            },
        )


# --- follow-ups ------------------------------------------------------------------------------

DUE_TABS = ("today", "overdue", "upcoming")


@login_required
@require_GET
def follow_up_list(request: HttpRequest) -> HttpResponse:
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
            _404_unless(member is not None)
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
    _audit_list(request, "follow_ups", [f.resident_id for f in page if f.resident_id])
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


def _follow_up_or_404(request: HttpRequest, pk: int):
    _404_unless(can_see_residents(request.user))
    follow_up = selectors.follow_up_get_for_user(request.user, pk)
    _404_unless(follow_up is not None)
    return follow_up


@login_required
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up_or_404(request, pk)
    try:
        services.follow_up_done(follow_up=follow_up, actor=request.user)
    except NotAllowed:
        raise Http404 from None
    except OperationRefused as exc:
        messages.error(request, exc.message)
    else:
        _audit(request, "update", follow_up, follow_up.household.unit, status="done")
        messages.success(request, _("Đã đánh dấu hoàn thành."))
    return redirect(_next_url(request, reverse("fieldwork:follow_ups")))


@login_required
@require_POST
def follow_up_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up_or_404(request, pk)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Hãy chọn ngày và buổi hẹn mới."))
    else:
        try:
            new = services.follow_up_reschedule(
                follow_up=follow_up, actor=request.user, **form.cleaned_data
            )
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            messages.error(request, exc.message)
        else:
            _audit(request, "update", follow_up, follow_up.household.unit, rescheduled_to=new.pk)
            messages.success(
                request, _("Đã dời lịch sang %(day)s.") % {"day": f"{new.due_date:%d/%m/%Y}"}
            )
    return redirect(_next_url(request, reverse("fieldwork:follow_ups")))


# --- home support ----------------------------------------------------------------------------


def _manager_only(request: HttpRequest) -> None:
    _404_unless(is_manager(request.user))


@login_required
@require_GET
def home_support_list(request: HttpRequest) -> HttpResponse:
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
    _audit_list(request, "home_support", [r.resident_id for r in page])
    return render(
        request,
        "fieldwork/home_support_list.html",
        {"page": page, "status": status, "today": today, "query": _query(request)},
    )


def _home_support_or_404(request: HttpRequest, pk: int) -> HomeSupportRequest:
    _manager_only(request)
    item = selectors.home_support_get_for_user(request.user, pk)
    _404_unless(item is not None)
    return item


@login_required
@require_GET
def home_support_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    audit_view(
        user=request.user, object_type="home_support", unit=item.resident.unit,
        residents=[item.resident_id], request=request, detail={"request": item.pk},
    )  # fmt: skip
    return _home_support_page(request, item)


def _home_support_page(request: HttpRequest, item: HomeSupportRequest, **forms) -> HttpResponse:
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
    request: HttpRequest, item, form, *, slot: str, status: str, done: str, apply
) -> HttpResponse:
    """One step of the home-support state machine from a form: the service decides whether
    the step is allowed; a refusal comes back on the form, success is audited."""
    if form.is_valid():
        try:
            apply(form.cleaned_data)
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            _audit(request, "update", item, item.resident.unit, status=status)
            messages.success(request, done)
            return redirect("fieldwork:home_support_detail", pk=item.pk)
    return _home_support_page(request, item, **{slot: form})


@login_required
@require_POST
def home_support_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    police = selectors.police_for_resident(item.resident, current_campaign(item.resident.unit))
    form = HomeSupportScheduleForm(request.POST, police=police)
    if "show_day" in request.POST:  # "Xem lịch ngày này": the officers' day, nothing saved
        return _home_support_page(request, item, schedule=form)
    return _home_support_step(
        request, item, form,
        slot="schedule", status="scheduled", done=_("Đã xếp lịch hỗ trợ tại nhà."),
        apply=lambda data: services.home_support_schedule(
            request=item, date=data["date"], officers=list(data["officers"]),
            actor=request.user, over_limit_ok=data["over_limit_ok"],
        ),
    )  # fmt: skip


@login_required
@require_POST
def home_support_done(request: HttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    return _home_support_step(
        request, item, DoneForm(request.POST), slot="done", status="done",
        done=_("Đã hoàn thành hỗ trợ tại nhà."),
        apply=lambda data: services.home_support_done(
            request=item, note=data["note"], actor=request.user
        ),
    )  # fmt: skip


@login_required
@require_POST
def home_support_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    item = _home_support_or_404(request, pk)
    return _home_support_step(
        request, item, CloseForm(request.POST), slot="cancel", status="cancelled",
        done=_("Đã huỷ yêu cầu."),
        apply=lambda data: services.home_support_cancel(
            request=item, reason=data["reason"], actor=request.user
        ),
    )  # fmt: skip


# --- reports to confirm, claims --------------------------------------------------------------


@login_required
@require_GET
def to_confirm(request: HttpRequest) -> HttpResponse:
    """Deaths and moves reported from the field, waiting for a manager's decision."""
    _manager_only(request)
    page = Paginator(selectors.status_reports_for(request.user), LIST_PAGE).get_page(
        request.GET.get("page")
    )
    _audit_list(request, "status_reports", [o.resident_id for o in page])
    return render(request, "fieldwork/to_confirm.html", {"page": page})


def _report_action(request: HttpRequest, pk: int, action) -> HttpResponse:
    _manager_only(request)
    outcome = selectors.status_report_get_for_user(request.user, pk)
    _404_unless(outcome is not None)
    try:
        action(outcome=outcome, actor=request.user)
    except NotAllowed:
        raise Http404 from None
    except OperationRefused as exc:
        messages.error(request, exc.message)
    else:
        _audit(
            request,
            "update",
            outcome.resident,
            outcome.resident.unit,
            report=outcome.outcome,
            review=outcome.review,
        )
        messages.success(request, _("Đã cập nhật."))
    return redirect("fieldwork:to_confirm")


@login_required
@require_POST
def to_confirm_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(request, pk, services.status_report_confirm)


@login_required
@require_POST
def to_confirm_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_action(request, pk, services.status_report_dismiss)


@login_required
@require_GET
def claims(request: HttpRequest) -> HttpResponse:
    """Field claims the extracts have not confirmed yet, beside the confirmed stage; claims
    that skipped a step (recorded as the step they can really be) are listed apart."""
    _manager_only(request)
    claims = selectors.open_claims_for(request.user)
    page = Paginator(claims.filter(skipped_from=""), LIST_PAGE).get_page(request.GET.get("page"))
    skipped = list(claims.exclude(skipped_from="")[:SKIPPED_SHOWN])
    _audit_list(request, "claims", [o.resident_id for o in [*page, *skipped]])
    return render(
        request,
        "fieldwork/claims.html",
        {"page": page, "skipped": skipped, "skipped_shown": SKIPPED_SHOWN},
    )


SKIPPED_SHOWN = 200


# --- outreach --------------------------------------------------------------------------------


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
def outreach_list(request: HttpRequest) -> HttpResponse:
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


def _managed_units(user) -> QuerySet[AdminUnit]:
    return units_for_user(user).filter(level__in=(Level.PROVINCE, *TEAM_LEVELS)).order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def outreach_new(request: HttpRequest) -> HttpResponse:
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
            event = services.outreach_record(actor=user, **form.cleaned_data)
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            _audit(request, "create", event, event.unit)
            messages.success(request, _("Đã ghi hoạt động."))
            return redirect(f"{reverse('fieldwork:outreach')}?month={event.date:%Y-%m}")
    return render(
        request,
        "fieldwork/outreach_form.html",
        {"form": form, "period": period_text(campaign) if campaign else ""},
    )


@login_required
@require_POST
def outreach_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _manager_only(request)
    event = selectors.outreach_for(request.user).filter(pk=pk).first()
    _404_unless(event is not None)
    try:
        services.outreach_delete(event=event, actor=request.user)
    except NotAllowed:
        raise Http404 from None
    audit_record(
        user=request.user,
        action="delete",
        object_type="outreachevent",
        object_id=pk,
        unit=event.unit,
        request=request,
    )
    messages.success(request, _("Đã xoá hoạt động."))
    return redirect(f"{reverse('fieldwork:outreach')}?month={event.date:%Y-%m}")


# --- trainings -------------------------------------------------------------------------------


@login_required
@require_GET
def training_list(request: HttpRequest) -> HttpResponse:
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
def training_new(request: HttpRequest) -> HttpResponse:
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
            session = services.training_create(actor=user, campaign=campaign, **form.cleaned_data)
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            _audit(request, "create", session, session.unit)
            messages.success(request, _("Đã tạo buổi tập huấn. Ghi danh sách tham dự bên dưới."))
            return redirect("fieldwork:training", pk=session.pk)
    return render(
        request,
        "fieldwork/training_form.html",
        {"form": form, "period": period_text(campaign) if campaign else ""},
    )


ATTENDANCE_CHOICES = ("absent", "attended", "passed")


@login_required
@require_http_methods(["GET", "POST"])
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Attendance: every roster member at or under the session's unit (absent, attended,
    passed) and commune staff added by name."""
    _manager_only(request)
    session = selectors.training_get_for_user(request.user, pk)
    _404_unless(session is not None)
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
                session=session, results=results, actor=request.user
            )
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            messages.error(request, exc.message)
        else:
            _audit(request, "update", session, session.unit, attending=attending, passed=passed)
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
def training_staff_add(request: HttpRequest, pk: int) -> HttpResponse:
    _manager_only(request)
    session = selectors.training_get_for_user(request.user, pk)
    _404_unless(session is not None)
    form = StaffForm(request.POST)
    if form.is_valid():
        try:
            services.training_staff_add(session=session, actor=request.user, **form.cleaned_data)
        except NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            messages.error(request, exc.message)
        else:
            _audit(request, "update", session, session.unit, staff_added=1)
    else:
        messages.error(request, _("Hãy nhập họ và tên."))
    return redirect("fieldwork:training", pk=session.pk)


@login_required
@require_POST
def training_staff_remove(request: HttpRequest, pk: int, attendance_id: int) -> HttpResponse:
    _manager_only(request)
    session = selectors.training_get_for_user(request.user, pk)
    _404_unless(session is not None)
    attendance = TrainingAttendance.objects.filter(session=session, pk=attendance_id).first()
    _404_unless(attendance is not None)
    services.training_attendance_remove(attendance=attendance, actor=request.user)
    _audit(request, "update", session, session.unit, staff_removed=1)
    return redirect("fieldwork:training", pk=session.pk)
