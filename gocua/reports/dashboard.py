"""Reads for the unit dashboard and the reconciliation page.

Everything here reads rollup rows of the units shown (and team members), so the number of
queries is fixed and their cost grows with the units and days shown, not with the residents.
The caller has already checked that the user may see `unit` (accounts.selectors).
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_noop

from gocua.campaigns.models import Affiliation, Assignment, Member
from gocua.campaigns.selectors import current_campaign
from gocua.fieldwork.models import VisitOutcome
from gocua.geo.models import AdminUnit, Level
from gocua.imports.models import ImportJob
from gocua.people.funnel import stages_at_least
from gocua.people.models import StageEvent
from gocua.reports import rollups
from gocua.reports.models import (
    FLOW_COLUMNS,
    MEMBER_COLUMNS,
    STOCK_COLUMNS,
    MemberDay,
    StageRegression,
    UnitDay,
)
from gocua.reports.selectors import METRICS, Freshness, kpi_rows, rollup_freshness, stock_series

# Marked for the catalogue only: the dashboard's cards and menus translate them; the charts
# (Vietnamese sentences) and the reports use them as they are.
METRIC_LABELS = {
    "registration": gettext_noop("Đăng ký"),
    "activation": gettext_noop("Kích hoạt"),
    "usage": gettext_noop("Sử dụng"),
}
SORTS = ("target", "improvement", "per_member")
WEEK = 7


@dataclass
class Dashboard:
    unit: AdminUnit
    on: dt.date
    metric: str
    sort: str
    head: dict
    children: list[dict]
    series: list[dict]
    first_day: dt.date | None
    deadline: dt.date | None
    campaign: object | None
    members: int
    team_rows: list[dict] = field(default_factory=list)
    week: dict = field(default_factory=dict)
    built: bool = True
    freshness: Freshness | None = None


def _flow_sums(unit_ids: list[int], on: dt.date) -> dict[int, dict]:
    """Field work per unit: the last 7 days and since the first day (one query)."""
    since = on - dt.timedelta(days=WEEK - 1)
    aggregates = {}
    for column in FLOW_COLUMNS:
        aggregates[f"{column}_7d"] = Sum(column, filter=Q(day__gte=since))
        aggregates[f"{column}_all"] = Sum(column)
    rows = (
        UnitDay.objects.filter(unit_id__in=unit_ids, day__lte=on)
        .values("unit_id")
        .annotate(**aggregates)
        .order_by()
    )
    return {r.pop("unit_id"): {k: v or 0 for k, v in r.items()} for r in rows}


def _productivity(flows: dict, members: int, days: int) -> dict:
    visits = flows.get("visits_7d", 0)
    claims = sum(flows.get(f"claims_{s}_all", 0) for s in ("registered", "activated", "used"))
    confirmed = sum(flows.get(f"confirmed_{s}_all", 0) for s in ("registered", "activated", "used"))
    return {
        "members": members,
        "visits_7d": visits,
        "visits_per_member_day": round(visits / (members * days), 2) if members else None,
        "households_7d": flows.get("households_7d", 0),
        "contact_rate": round(flows.get("contacted_7d", 0) / visits, 4) if visits else None,
        "claims": claims,
        "claims_confirmed": confirmed,
        "confirmed_share": round(confirmed / claims, 4) if claims else None,
    }


def _members_by_unit(unit: AdminUnit) -> dict[str, int]:
    """Active members of the current campaign's teams under `unit`, by the team's unit path;
    under a commune (whose children are hamlets without teams), the members assigned to each
    hamlet, by the hamlet's path."""

    if unit.level == Level.COMMUNE:
        return dict(
            Assignment.objects.filter(
                hamlet__parent=unit, member__active=True, member__team__campaign__is_current=True
            )
            .values_list("hamlet__path")
            .annotate(n=Count("member_id", distinct=True))
            .order_by()
        )
    return dict(
        Member.objects.filter(
            active=True,
            team__campaign__is_current=True,
            team__unit__edition=unit.edition,
            team__unit__path__startswith=unit.path,
        )
        .values_list("team__unit__path")
        .annotate(n=Count("id"))
        .order_by()
    )


def _team_rows(unit: AdminUnit, on: dt.date, first: dt.date) -> list[dict]:
    """The unit's own team (current campaign), member by member (two queries)."""

    labels = dict(Affiliation.choices)
    members = list(
        Member.objects.filter(team__campaign__is_current=True, team__unit=unit, active=True)
        .order_by("-is_leader", "full_name")
        .values("id", "full_name", "affiliation", "is_leader")
    )
    if not members:
        return []
    since = on - dt.timedelta(days=WEEK - 1)
    days = max(min(WEEK, (on - first).days + 1), 1)
    aggregates = {}
    for column in MEMBER_COLUMNS:
        aggregates[f"{column}_7d"] = Sum(column, filter=Q(day__gte=since))
        aggregates[f"{column}_all"] = Sum(column)
    sums = {
        r.pop("member_id"): r
        for r in MemberDay.objects.filter(member_id__in=[m["id"] for m in members], day__lte=on)
        .values("member_id")
        .annotate(**aggregates)
        .order_by()
    }
    rows = []
    for member in members:
        s = {k: v or 0 for k, v in sums.get(member["id"], {}).items()}
        visits = s.get("visits_7d", 0)
        rows.append(
            {
                **member,
                "affiliation_label": labels.get(member["affiliation"], member["affiliation"]),
                "visits_7d": visits,
                "visits_per_day": round(visits / days, 1),
                "households_7d": s.get("households_7d", 0),
                "contact_rate": round(s.get("contacted_7d", 0) / visits, 4) if visits else None,
                "claims": s.get("claims_all", 0),
                "claims_confirmed": s.get("confirmed_all", 0),
                "confirmed_share": (
                    round(s["confirmed_all"] / s["claims_all"], 4) if s.get("claims_all") else None
                ),
            }
        )
    return rows


def _sort_key(sort: str, metric: str):
    def key(row: dict):
        if sort == "improvement":
            value = row.get(f"{metric}_rate_change_7d")
        elif sort == "per_member":
            value = row.get("gain_per_member")
        else:
            value = row.get(f"{metric}_percent_of_target")
        # Units with nothing to rank go last, then by name.
        return (value is None, -(value or 0), row["unit_name"])

    return key


def _rates_by_day(unit: AdminUnit, first: dt.date, on: dt.date) -> list[dict]:
    """The unit's eligible people and registration, activation and usage rates, day by day."""
    series = []
    for day, r in stock_series([unit.id], first, on)[unit.id]:
        eligible = sum(r[c] for c in STOCK_COLUMNS[:6])
        registered = eligible - r["st_none"]
        activated = r["st_activated"] + r["st_used"]
        series.append(
            {
                "day": day,
                "eligible": eligible,
                "registration": registered / eligible if eligible else 0.0,
                "activation": activated / eligible if eligible else 0.0,
                "usage": r["st_used"] / eligible if eligible else 0.0,
            }
        )
    return series


def _child_annotate(
    row: dict,
    child: AdminUnit | None,
    members_by_path: dict[str, int],
    flows: dict,
    metric: str,
    days: int,
) -> None:
    """A child unit's row with its place on the map, gain per member and productivity."""
    row["unit"] = child
    row["lat"] = child.lat if child else None
    row["lon"] = child.lon if child else None
    members = (
        sum(n for path, n in members_by_path.items() if path.startswith(child.path)) if child else 0
    )
    gain = row.get(f"{metric}_gain_7d")
    row["gain_per_member"] = round(gain / members, 2) if members and gain is not None else None
    row["productivity"] = _productivity(flows.get(child.id, {}) if child else {}, members, days)


def dashboard_for(
    unit: AdminUnit, *, metric: str = "activation", sort: str = "target", on: dt.date | None = None
) -> Dashboard:
    metric = metric if metric in METRICS else "activation"
    sort = sort if sort in SORTS else "target"
    on = on or rollups.today()
    rows = kpi_rows(unit, depth=1, on=on)
    head, children = rows[0], rows[1:]
    state = rollups.rollup_state()
    campaign = current_campaign(unit)
    child_units = {
        u.code: u
        for u in AdminUnit.objects.filter(parent=unit).only("id", "code", "lat", "lon", "path")
    }
    first = state.first_day if state else on
    series = _rates_by_day(unit, first, on) if state is not None and first <= on else []
    members_by_path = _members_by_unit(unit)
    flows = _flow_sums([unit.id, *(u.id for u in child_units.values())], on)
    days = max(min(WEEK, (on - first).days + 1), 1)
    for row in children:
        _child_annotate(
            row, child_units.get(row["unit_code"]), members_by_path, flows, metric, days
        )
    children.sort(key=_sort_key(sort, metric))
    team_rows = _team_rows(unit, on, first)
    total_members = len(team_rows) if unit.level == Level.COMMUNE else sum(members_by_path.values())
    return Dashboard(
        unit=unit,
        on=on,
        metric=metric,
        sort=sort,
        head=head,
        children=children,
        series=series,
        first_day=state.first_day if state else None,
        deadline=campaign.deadline if campaign else None,
        campaign=campaign,
        members=total_members,
        team_rows=team_rows,
        week=_productivity(flows.get(unit.id, {}), total_members, days),
        built=state is not None,
        freshness=rollup_freshness(state),
    )


def ancestors_of(unit: AdminUnit) -> list[AdminUnit]:
    """The unit's ancestors, root first (one query)."""
    codes = unit.path.rstrip("/").split("/")[:-1]
    if not codes:
        return []
    found = {u.code: u for u in AdminUnit.objects.filter(edition=unit.edition, code__in=codes)}
    return [found[c] for c in codes if c in found]


# --- reconciliation --------------------------------------------------------------------------


def last_extract_at():
    """The time of the latest status extract: the later of the newest extract-dated stage
    change and the end of the newest stage import (an extract that changed nothing still
    counts as having been read). None before the first."""

    event = (
        StageEvent.objects.filter(source=StageEvent.Source.EXTRACT)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    job = (
        ImportJob.objects.filter(kind=ImportJob.Kind.STAGES, status=ImportJob.Status.DONE)
        .exclude(finished_at=None)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return max((t for t in (event, job) if t is not None), default=None)


def claim_gaps(unit: AdminUnit, on: dt.date | None = None) -> list[dict]:
    """Per child unit (and the unit itself first): claims by volunteers beside the confirmed
    funnel — open claims (not supported by the confirmed stage) and the claimed rate they
    would make, next to the confirmed rate. Claims are counted per visit outcome, so a person
    claimed twice counts twice: the claimed rate is an upper bound."""
    on = on or rollups.today()
    rows = kpi_rows(unit, depth=1, on=on)
    units = {
        u.code: u
        for u in AdminUnit.objects.filter(
            edition=unit.edition, code__in=[r["unit_code"] for r in rows]
        )
    }
    flows = _flow_sums([u.id for u in units.values()], on)
    result = []
    for row in rows:
        u = units[row["unit_code"]]
        f = flows.get(u.id, {})
        gap: dict[str, Any] = {"row": row, "unit": u}
        for metric, stage, count_key in (
            ("registration", "registered", "registered"),
            ("activation", "activated", "activated"),
            ("usage", "used", "used"),
        ):
            claims = f.get(f"claims_{stage}_all", 0)
            open_claims = claims - f.get(f"confirmed_{stage}_all", 0)
            claimed = min(row[count_key] + open_claims, row["eligible"])
            gap[metric] = {
                "claims": claims,
                "open": open_claims,
                "confirmed_rate": row[f"{metric}_rate"],
                "claimed_rate": round(claimed / row["eligible"], 4) if row["eligible"] else 0.0,
            }
            gap[metric]["gap"] = round(gap[metric]["claimed_rate"] - row[f"{metric}_rate"], 4)
        result.append(gap)
    return result


def _claim_sums(member_ids: list[int], extract_day: dt.date | None, on: dt.date) -> dict:
    """Per member: claims and confirmed claims up to `on`, and those before the extract."""
    before = Q(day__lt=extract_day) if extract_day else Q(pk__in=[])
    return {
        r.pop("member_id"): r
        for r in MemberDay.objects.filter(member_id__in=member_ids, day__lte=on)
        .values("member_id")
        .annotate(
            claims_all=Sum("claims"),
            confirmed_all=Sum("confirmed"),
            claims_before=Sum("claims", filter=before),
            confirmed_before=Sum("confirmed", filter=before),
        )
        .order_by()
    }


def claims_by_team(
    unit: AdminUnit, *, extract: dt.datetime | None, on: dt.date | None = None
) -> tuple[list[dict], list[dict]]:
    """Claims by volunteers per team under `unit`, and member by member for the unit's own
    team: claims made, supported by the confirmed stage now, not supported although an
    extract came after them (by day), and still waiting for one. Reads MemberDay rows (one
    query) plus the roster."""

    on = on or rollups.today()
    extract_day = rollups.local_day(extract) if extract else None
    members = list(
        Member.objects.filter(
            team__campaign__is_current=True,
            team__unit__edition=unit.edition,
            team__unit__path__startswith=unit.path,
        )
        .select_related("team", "team__unit")
        .order_by("team__unit__path", "full_name")
    )
    sums = _claim_sums([m.id for m in members], extract_day, on)
    teams: dict[int, dict] = {}
    own: list[dict] = []
    for member in members:
        s = {k: v or 0 for k, v in sums.get(member.id, {}).items()}
        row = {
            "claims": s.get("claims_all", 0),
            "confirmed": s.get("confirmed_all", 0),
            "unconfirmed_after_extract": s.get("claims_before", 0) - s.get("confirmed_before", 0),
        }
        row["pending"] = row["claims"] - row["confirmed"] - row["unconfirmed_after_extract"]
        team = teams.setdefault(
            member.team_id,
            {
                "team": member.team,
                "members": 0,
                "claims": 0,
                "confirmed": 0,
                "unconfirmed_after_extract": 0,
                "pending": 0,
            },
        )
        team["members"] += 1
        for key in ("claims", "confirmed", "unconfirmed_after_extract", "pending"):
            team[key] += row[key]
        if member.team.unit_id == unit.id and row["claims"]:
            own.append({"member": member, "team": member.team, **row})
    team_rows = sorted(
        (t for t in teams.values() if t["claims"]),
        key=lambda t: (-t["unconfirmed_after_extract"], t["team"].unit.path),
    )
    own.sort(key=lambda r: (-r["unconfirmed_after_extract"], r["member"].full_name))
    return team_rows, own


def unconfirmed_claims(unit: AdminUnit, residents, *, extract: dt.datetime | None, limit: int = 50):
    """Claims made before the latest extract that the confirmed stage still does not support,
    newest first, among `residents` (the user's, from accounts.selectors) under `unit`."""

    if extract is None:
        return [], 0
    unsupported = Q(pk__in=[])
    for claimed in rollups.CLAIM_CODES:
        unsupported |= Q(claimed_stage=claimed) & ~Q(
            resident__eid_stage__in=stages_at_least(claimed)
        )
    claims = VisitOutcome.objects.filter(
        unsupported,
        visit__at__lt=extract,
        skipped_from="",  # listed apart: skipped_claims
        resident__in=residents.filter(unit__edition=unit.edition, unit__path__startswith=unit.path),
    )
    total = claims.count()
    listed = list(
        claims.select_related("resident", "resident__unit", "visit", "visit__member").order_by(
            "-visit__at"
        )[:limit]
    )
    return listed, total


def skipped_claims(unit: AdminUnit, residents, *, limit: int = 50):
    """Claims that skipped a step (recorded as the step they can really be, see
    fieldwork.services.claim_for), newest first, among `residents` under `unit`."""

    claims = VisitOutcome.objects.filter(
        resident__in=residents.filter(unit__edition=unit.edition, unit__path__startswith=unit.path)
    ).exclude(skipped_from="")
    listed = list(
        claims.select_related("resident", "resident__unit", "visit", "visit__member").order_by(
            "-visit__at", "-id"
        )[:limit]
    )
    # Counted only when the list is full: usually there are few, and the page stays O(1).
    return listed, len(listed) if len(listed) < limit else claims.count()


def regressions(unit: AdminUnit, residents, *, limit: int = 50):
    """Residents whose confirmed stage went backwards, newest first (StageRegression rows)."""

    rows = StageRegression.objects.filter(
        unit__edition=unit.edition,
        unit__path__startswith=unit.path,
        resident__in=residents,
    )
    total = rows.count()
    return list(rows.select_related("resident", "unit").order_by("-at")[:limit]), total
