"""Worklists (rà soát): the households that still have work, on screen and as the A4 print-out
teams take on their rounds."""

from collections.abc import Mapping
from itertools import groupby
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from gocua.accounts import privacy
from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import can_see_residents, is_manager, units_for_user
from gocua.accounts.services import audit_record, audit_view
from gocua.campaigns.models import Member, Team
from gocua.campaigns.selectors import (
    current_campaign_for_user,
    hamlets_of,
    member_for_user,
    members_for_user,
)
from gocua.fieldwork import selectors
from gocua.fieldwork.forms import WorklistFilterForm
from gocua.fieldwork.models import Outcome
from gocua.fieldwork.views._common import STAGE_LABELS, _404_unless, _page_number, _query
from gocua.geo.models import AdminUnit
from gocua.people.funnel import GAP_LABELS
from gocua.people.models import Resident
from gocua.people.records import assigned_hamlets

WORKLIST_PAGE = 100
OUTCOME_LABELS = dict(Outcome.choices)
TICKS = '<td class="tick">☐</td>' * 6 + "<td></td>"  # constant HTML, no data
PRINT_LIMIT = 10_000  # households: a whole district prints at once (bench/print.py)


def _worklist_request(request: AuthenticatedHttpRequest) -> dict:
    """Parse the worklist's filters for this user; 404 for anything out of scope."""
    user = request.user
    _404_unless(can_see_residents(user))
    campaign = current_campaign_for_user(request.user)
    manager = is_manager(user)
    data: QueryDict = request.GET
    own_member = None
    team = None
    if manager:
        team, teams, hamlets, members, data = _manager_choices(user, campaign, data)
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
    scope: list[AdminUnit] | QuerySet[AdminUnit] | None = None
    if member is not None:
        who = member
        scope = [hamlet] if hamlet else None
    elif hamlet is not None:
        scope = [hamlet]
    elif team is not None:
        scope = hamlets
    elif manager:
        who = None  # a manager picks a team, a hamlet or a member first
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
        "query": _query(request),
    }


def _manager_choices(
    user, campaign, data: QueryDict
) -> tuple[Team | None, QuerySet[Team], QuerySet[AdminUnit], QuerySet[Member], QueryDict]:
    """A manager's choices on the worklist: the team (the one picked, the picked member's, or
    by default the team of the manager's own unit, then shown as picked), the teams to pick
    from, and the team's hamlets and active members. 404 for a team or member out of scope."""
    team = None
    teams = Team.objects.filter(unit__in=units_for_user(user)).select_related("unit")
    teams = teams.filter(campaign=campaign) if campaign else teams.none()
    raw_team = data.get("team", "")
    raw_member = data.get("member", "")
    if raw_team.isdigit():
        team = teams.filter(pk=int(raw_team)).first()
        if team is None:
            raise Http404
    elif raw_member.isdigit() and campaign is not None:
        member = members_for_user(user, campaign).filter(pk=int(raw_member)).first()
        if member is None:
            raise Http404
        team = member.team
    elif user.unit_id and campaign is not None:
        team = teams.filter(unit_id=user.unit_id).first()
        if team is not None:  # show the team the list defaults to
            data = data.copy()
            data["team"] = str(team.pk)
    hamlets = hamlets_of(team.unit) if team else AdminUnit.objects.none()
    members = (
        team.members.filter(active=True).order_by("full_name") if team else Member.objects.none()
    )
    teams = teams.order_by("unit__path")
    return team, teams, hamlets, members, data


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
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
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
            user=request.user,
            object_type="worklist",
            request=request,
            unit=ctx["team"].unit if ctx["team"] else request.user.unit,
            residents=[r["id"] for h in shown for r in h["residents"]],
            detail={"households": len(shown), "page": page},
        )
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
        unit: Mapping[str, Any] = hamlets.get(hamlet_id, {})
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
def worklist_print(request: AuthenticatedHttpRequest) -> HttpResponse:
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
