"""Dashboard, reconciliation and report downloads for one unit.

Every view is login-only and asks gocua.accounts.selectors for the unit: a unit outside the
user's jurisdiction answers 404. Resident-level lists (reconciliation) go through
`residents_for_user`, so a viewer sees aggregates only and a volunteer only their hamlets.
"""

import datetime as dt
import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET

from gocua.accounts.selectors import home_unit, unit_for_user_or_404, unit_visible
from gocua.accounts.services import audit_record
from gocua.geo.selectors import units_in_subtree
from gocua.lib.replicas import replica_reads
from gocua.people.models import Stage
from gocua.people.records import residents_for_user
from gocua.reports import charts, rollups
from gocua.reports.dashboard import (
    METRIC_LABELS,
    ancestors_of,
    claim_gaps,
    claims_by_team,
    dashboard_for,
    last_extract_at,
    regressions,
    skipped_claims,
    unconfirmed_claims,
)
from gocua.reports.exports import committee_csv, committee_xlsx, snapshot_csv, snapshot_xlsx
from gocua.reports.exports import snapshot_rows as daily_rows
from gocua.reports.pace import STATUS_LABELS
from gocua.reports.selectors import METRICS, kpi_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALL_LEVELS = 10  # deeper than any tree: province → district → commune → hamlet
MAX_SNAPSHOT_DAYS = 400


def _unit(request: HttpRequest, edition: int | None, code: str | None):
    if code is None:
        unit = home_unit(request.user)
        if unit is None:
            raise Http404("no unit")
        return unit
    return unit_for_user_or_404(request.user, edition, code)


def _metric_view(row: dict, metric: str) -> dict:
    """The keys of one metric under short names, for templates."""
    return {
        "label": _(METRIC_LABELS[metric]),
        "count": row[{"registration": "registered", "activation": "activated"}.get(metric, "used")],
        "rate": row[f"{metric}_rate"],
        "target": row[f"{metric}_target"],
        "goal": row[f"{metric}_goal"],
        "percent": row[f"{metric}_percent_of_target"],
        "remaining": row[f"{metric}_remaining"],
        "required": row[f"{metric}_required_pace"],
        "pace": row[f"{metric}_pace_7d"],
        "gain": row[f"{metric}_gain_7d"],
        "change": row[f"{metric}_rate_change_7d"],
        "projected": dt.date.fromisoformat(row[f"{metric}_projected_date"])
        if row[f"{metric}_projected_date"]
        else None,
        "status": row[f"{metric}_status"],
        "status_label": _(
            STATUS_LABELS.get(row[f"{metric}_status"] or "", gettext_noop("Chưa đủ số liệu"))
        ),
    }


@login_required
@require_GET
@replica_reads
def dashboard(request: HttpRequest, edition: int | None = None, code: str | None = None):
    """The dashboard of a unit (the user's own by default): cards, funnel, daily rates, pace,
    ranking of the child units, map, team productivity, downloads."""
    unit = _unit(request, edition, code)
    data = dashboard_for(
        unit, metric=request.GET.get("metric", "activation"), sort=request.GET.get("sort", "")
    )
    metric = data.metric
    for row in data.children:
        row["m"] = _metric_view(row, metric)
    head = data.head
    cards = [_metric_view(head, m) for m in METRICS]
    chosen = _metric_view(head, metric)

    def child_url(row: dict) -> str:
        url = reverse("reports:dashboard", args=[unit.edition, row["unit_code"]])
        return f"{url}?{urlencode({'metric': metric})}"

    for row in data.children:
        row["url"] = child_url(row)
    labels = METRIC_LABELS
    context = {
        "unit": unit,
        "data": data,
        "head": head,
        "cards": cards,
        "chosen": chosen,
        "metric": metric,
        "metrics": [(m, _(METRIC_LABELS[m])) for m in METRICS],
        "sorts": [
            # xgettext:no-python-format
            ("target", _("% chỉ tiêu")),
            ("improvement", _("Tăng 7 ngày")),
            ("per_member", _("Theo thành viên tổ")),
        ],
        "ancestors": [a for a in ancestors_of(unit) if unit_visible(request.user, a)],
        "unplaced": [r for r in data.children if r["lat"] is None or r["lon"] is None],
        "charts": {
            "series": charts.rate_series(
                data.series,
                today=data.on,
                deadline=data.deadline,
                targets={m: head[f"{m}_target"] for m in METRICS},
                metric=metric,
                projected=chosen["projected"],
                labels=labels,
            ),
            "legend": charts.legend(labels),
            "funnel": charts.funnel(head),
            "pace": charts.pace_bars(head, labels),
            "map": charts.unit_map(data.children, metric=metric, url_for=child_url),
        },
        "days_left": (data.deadline - data.on).days if data.deadline else None,
        "snapshot_from": (data.first_day or data.on).isoformat(),
        "today": data.on,
    }
    return render(request, "reports/dashboard.html", context)


@login_required
@require_GET
@replica_reads
def committee_report(request: HttpRequest, edition: int, code: str, fmt: str) -> HttpResponse:
    """The People's Committee report of the unit and every level under it (XLSX or CSV)."""
    if fmt not in ("xlsx", "csv"):
        raise Http404("xlsx or csv")
    unit = unit_for_user_or_404(request.user, edition, code)
    on = rollups.today()
    rows = kpi_rows(unit, depth=ALL_LEVELS, on=on)
    audit_record(
        user=request.user,
        action="export",
        object_type="kpi_report",
        object_id=unit.code,
        unit=unit,
        request=request,
        detail={"format": fmt},
    )
    name = f"bao-cao-vneid-{unit.code}-{on:%Y%m%d}"
    if fmt == "csv":
        stream = io.StringIO(newline="")
        committee_csv(rows, stream, unit=unit)
        response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    output = io.BytesIO()
    committee_xlsx(rows, output, unit=unit, on=on)
    response = HttpResponse(output.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def snapshot_range(
    asked_from: str, asked_to: str, first_day: dt.date, last_day: dt.date
) -> tuple[dt.date, dt.date]:
    """The days of a daily export: the range asked (either end may be left empty) within the
    days the rollups hold. ValueError, with what to correct, for a date that is not one, an
    empty range or one longer than MAX_SNAPSHOT_DAYS."""
    try:
        first = dt.date.fromisoformat(asked_from) if asked_from else first_day
        last = dt.date.fromisoformat(asked_to) if asked_to else last_day
    except ValueError:
        raise ValueError(
            _("Ngày không hợp lệ: hãy chọn ngày trên lịch (năm-tháng-ngày).")
        ) from None
    first, last = max(first, first_day), min(last, last_day)
    if last < first:
        raise ValueError(
            _("Không có số liệu trong khoảng ngày này: số liệu có từ %(first)s đến %(last)s.")
            % {"first": f"{first_day:%d/%m/%Y}", "last": f"{last_day:%d/%m/%Y}"}
        )
    if (last - first).days > MAX_SNAPSHOT_DAYS:
        raise ValueError(
            _("Khoảng ngày quá dài: mỗi lần xuất tối đa %(days)s ngày.")
            % {"days": MAX_SNAPSHOT_DAYS}
        )
    return first, last


@login_required
@require_GET
@replica_reads
def snapshot(request: HttpRequest, edition: int, code: str) -> HttpResponse:
    """Daily rows of the unit and its children for a date range (?from=&to=&format=csv|xlsx)."""
    unit = unit_for_user_or_404(request.user, edition, code)
    state = rollups.rollup_state()
    if state is None:
        raise Http404("rollups not built")
    asked_from, asked_to = request.GET.get("from") or "", request.GET.get("to") or ""
    try:
        first, last = snapshot_range(asked_from, asked_to, state.first_day, state.day)
    except ValueError as exc:
        # Shown inside the normal page, the form kept as it was filled, to be corrected.
        return render(
            request,
            "reports/snapshot.html",
            {
                "unit": unit,
                "error": str(exc),
                "snapshot_from": asked_from,
                "snapshot_to": asked_to,
                "snapshot_format": request.GET.get("format"),
            },
            status=400,
        )
    units = list(units_in_subtree(unit).filter(depth__lte=unit.depth + 1).order_by("path"))
    rows = daily_rows(units, first, last)
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    audit_record(
        user=request.user,
        action="export",
        object_type="daily_snapshot",
        object_id=unit.code,
        unit=unit,
        request=request,
        detail={"format": fmt, "from": first.isoformat(), "to": last.isoformat()},
    )
    name = f"so-lieu-ngay-{unit.code}-{first:%Y%m%d}-{last:%Y%m%d}"
    if fmt == "xlsx":
        output = io.BytesIO()
        snapshot_xlsx(rows, output)
        response = HttpResponse(output.getvalue(), content_type=XLSX)
    else:
        stream = io.StringIO(newline="")
        snapshot_csv(rows, stream)
        response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
@require_GET
@replica_reads
def reconciliation(request: HttpRequest, edition: int | None = None, code: str | None = None):
    """Field claims against the official extracts: per team and member, the residents whose
    confirmed stage went backwards, and the claimed-vs-confirmed gap per unit."""
    unit = _unit(request, edition, code)
    residents = residents_for_user(request.user)
    extract = last_extract_at()
    claims, claims_total = unconfirmed_claims(unit, residents, extract=extract)
    skipped, skipped_total = skipped_claims(unit, residents)
    backwards, backwards_total = regressions(unit, residents)
    labels = dict(Stage.choices)
    for b in backwards:
        b.from_label = labels.get(b.from_stage, b.from_stage)
        b.to_label = labels.get(b.to_stage, b.to_stage)
    gaps = claim_gaps(unit)
    teams, members = claims_by_team(unit, extract=extract)
    for team in teams:
        team["url"] = reverse("reports:reconciliation", args=[unit.edition, team["team"].unit.code])
    for gap in gaps[1:]:
        gap["url"] = reverse("reports:reconciliation", args=[unit.edition, gap["unit"].code])
    return render(
        request,
        "reports/reconciliation.html",
        {
            "unit": unit,
            "ancestors": [a for a in ancestors_of(unit) if unit_visible(request.user, a)],
            "teams": teams,
            "members": members,
            "claims": claims,
            "claims_total": claims_total,
            "skipped": skipped,
            "skipped_total": skipped_total,
            "backwards": backwards,
            "backwards_total": backwards_total,
            "gaps": gaps,
            "extract_at": extract,
        },
    )
