"""KPI reads: the funnel of any unit's subtree, for the unit and its descendants.

`kpi_rows` reads the rollups (gocua/reports/rollups/): the rows of the units shown on the
counted day and seven days before, so its cost does not grow with the number of residents.
When the rollups cannot answer (never built, another minimum age, a day outside the stored
range) it falls back to one GROUP BY over the residents, which is exact but O(residents).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from gocua.campaigns.models import Campaign, UnitTarget
from gocua.campaigns.selectors import current_campaign
from gocua.geo.models import AdminUnit
from gocua.geo.selectors import units_in_subtree
from gocua.people.funnel import (
    ACTIVATED_STAGES,
    DEFAULT_MIN_AGE,
    REGISTERED_STAGES,
    STAGE_CODES,
    USED_STAGES,
    eligibility_cutoff,
)
from gocua.people.models import Resident
from gocua.reports import rollups
from gocua.reports.models import STOCK_COLUMNS, RollupState, UnitDay
from gocua.reports.pace import pace_of

# A row of the KPI report: a unit's counts, rates and pace, as the pages, exports and API read it.
KpiRow = dict[str, Any]

COUNTED = tuple(STAGE_CODES)  # every stage, one count each (the KPI row's columns)
METRICS = ("registration", "activation", "usage")
METRIC_COUNT = {"registration": "registered", "activation": "activated", "usage": "used"}
DEFAULT_TARGETS = {"registration": Decimal(1), "activation": Decimal(1), "usage": Decimal("0.8")}

KPI_FIELDS = [
    "unit_code",
    "unit_name",
    "level",
    "eligible",
    "registered",
    "approved",
    "failed",
    "activated",
    "used",
    "registration_rate",
    "activation_rate",
    "usage_rate",
]
PACE_KEYS = (
    "target",
    "goal",
    "percent_of_target",
    "remaining",
    "required_pace",
    "pace_7d",
    "gain_7d",
    "rate_change_7d",
    "projected_date",
    "status",
)
# The keys kpi_rows adds after the contract keys (same order in every row).
EXTRA_FIELDS = [
    "day",
    "deadline",
    "level2",
    "level2_share",
    *(f"{metric}_{key}" for metric in METRICS for key in PACE_KEYS),
]


@dataclass(frozen=True)
class Freshness:
    """How current the figures a page shows are, said on the page.

    - "current": the rollups count everything recorded up to `as_of` (the worker's last fold;
      `visits` visits and `edited` edited residents recorded since are still waiting);
    - "recounting": something they were built with changed (a campaign's start or minimum
      age); the old figures answer, as of `as_of`, until the rebuild the worker is running;
    - "first_count": the rollups do not exist yet (an upgrade); the worker is building them,
      and meanwhile figures are counted directly from the residents;
    - "counting": an import's new residents (`waiting` of them) are being added; the figures
      count everything recorded up to `as_of`, when the oldest of them was queued."""

    status: str
    as_of: dt.datetime | None
    waiting: int = 0
    visits: int = 0
    edited: int = 0

    @property
    def queued(self) -> int:
        """Visits and edited residents recorded, not counted yet (the page says so)."""
        return self.visits + self.edited


def rollup_freshness(state: RollupState | None = None) -> Freshness:
    """How current the rollups are, read from their state (rollups.rollup_state): never
    writes, so a page can be served from a copy of the database."""
    state = state if state is not None else rollups.rollup_state()
    if state is None:
        return Freshness("first_count", None)
    queued = {"visits": state.visits_waiting, "edited": state.residents_edited}
    if state.stale_since is not None:
        return Freshness("recounting", state.stale_since, **queued)
    if state.residents_waiting:
        return Freshness("counting", state.waiting_since, state.residents_waiting, **queued)
    return Freshness("current", state.folded_at or state.built_at, **queued)


def min_age_now() -> int:
    return rollups.current_min_age()


def eligible_residents(unit: AdminUnit, on: dt.date, min_age: int) -> QuerySet[Resident]:
    """Alive, resident, aged `min_age` or more on `on`."""
    return Resident.objects.filter(
        unit__edition=unit.edition,
        unit__path__startswith=unit.path,
        deceased=False,
        moved_out=False,
        birth_date__lte=eligibility_cutoff(on, min_age),
    )


def stage_counts_by_unit(unit: AdminUnit, on: dt.date, min_age: int) -> dict[str, dict[str, int]]:
    """{unit path: {stage: count}} for every unit under `unit` that has residents (live)."""
    aggregates = {stage: Count("id", filter=Q(eid_stage=stage)) for stage in COUNTED}
    aggregates["level2"] = Count("id", filter=Q(eid_level=2))
    rows = (
        eligible_residents(unit, on, min_age).values("unit__path").annotate(**aggregates).order_by()
    )
    return {row.pop("unit__path"): row for row in rows}


def _live_counts(
    unit: AdminUnit, shown: list[AdminUnit], on: dt.date, min_age: int
) -> dict[int, dict[str, int]]:
    by_path = {u.path: u for u in shown}
    totals: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys((*COUNTED, "level2"), 0))
    for path, counts in stage_counts_by_unit(unit, on, min_age).items():
        # Add each leaf's counts to every shown ancestor: O(leaves x depth), no per-unit query.
        parts = path.split("/")[:-1]
        for end in range(len(parts), 0, -1):
            prefix = "/".join(parts[:end]) + "/"
            if prefix in by_path:
                bucket = totals[by_path[prefix].id]
                for key, n in counts.items():
                    bucket[key] += n
            if prefix == unit.path:
                break
    return totals


def _row_counts(row: Mapping[str, int] | None) -> dict[str, int]:
    if row is None:
        return dict.fromkeys((*COUNTED, "level2"), 0)
    return {**{s: row[f"st_{s}"] for s in COUNTED}, "level2": row["level2"]}


def rollup_counts(
    unit_ids: list[int], days: set[dt.date]
) -> dict[tuple[int, dt.date], dict[str, int]]:
    """{(unit id, day): {stage: count, level2}} from the rollups: a day's stock is the sum of
    the change rows up to it, so one query sums each unit's rows once per day asked."""
    ordered = sorted(days)
    aggregates = {
        f"{column}_d{i}": Sum(column, filter=Q(day__lte=day))
        for i, day in enumerate(ordered)
        for column in STOCK_COLUMNS
    }
    rows = (
        UnitDay.objects.filter(unit_id__in=unit_ids, day__lte=ordered[-1])
        .values("unit_id")
        .annotate(**aggregates)
        .order_by()
    )
    result = {}
    for row in rows:
        for i, day in enumerate(ordered):
            result[(row["unit_id"], day)] = _row_counts(
                {column: row[f"{column}_d{i}"] or 0 for column in STOCK_COLUMNS}
            )
    return result


def stock_series(
    unit_ids: list[int], first: dt.date, last: dt.date
) -> dict[int, list[tuple[dt.date, dict[str, int]]]]:
    """{unit id: [(day, {stock column: count}) for every day first..last]}: the running sums
    of the change rows (one query over the units' rows up to `last`)."""
    changes: dict[int, dict[dt.date, dict[str, Any]]] = defaultdict(dict)
    for row in UnitDay.objects.filter(unit_id__in=unit_ids, day__lte=last).values(
        "unit_id", "day", *STOCK_COLUMNS
    ):
        changes[row["unit_id"]][row["day"]] = row
    series = {}
    for unit_id in unit_ids:
        rows = changes.get(unit_id, {})
        running = dict.fromkeys(STOCK_COLUMNS, 0)
        for day in sorted(d for d in rows if d < first):
            for column in STOCK_COLUMNS:
                running[column] += rows[day][column]
        out = []
        day = first
        while day <= last:
            step = rows.get(day)
            if step is not None:
                for column in STOCK_COLUMNS:
                    running[column] += step[column]
            out.append((day, dict(running)))
            day += dt.timedelta(days=1)
        series[unit_id] = out
    return series


def kpi_row(unit: AdminUnit, counts: dict[str, int]) -> KpiRow:
    eligible = sum(counts.get(s, 0) for s in COUNTED)
    registered = sum(counts.get(s, 0) for s in REGISTERED_STAGES)
    activated = sum(counts.get(s, 0) for s in ACTIVATED_STAGES)
    used = sum(counts.get(s, 0) for s in USED_STAGES)

    def rate(n: int) -> float:
        return round(n / eligible, 4) if eligible else 0.0

    return {
        "unit_code": unit.code,
        "unit_name": unit.name,
        "level": unit.level,
        "eligible": eligible,
        "registered": registered,
        "approved": counts.get("approved", 0),
        "failed": counts.get("failed", 0),
        "activated": activated,
        "used": used,
        "registration_rate": rate(registered),
        "activation_rate": rate(activated),
        "usage_rate": rate(used),
    }


def unit_targets(
    units: list[AdminUnit], campaign: Campaign | None
) -> dict[int, dict[str, Decimal]]:
    """{unit id: {metric: target}}: the campaign's targets, overridden by the UnitTarget of
    the unit or of its nearest ancestor that has one (one query)."""

    if campaign is None:
        return {u.id: dict(DEFAULT_TARGETS) for u in units}
    base = {
        "registration": campaign.target_registration,
        "activation": campaign.target_activation,
        "usage": campaign.target_usage,
    }
    editions = {u.edition for u in units}
    overrides = {
        (path, metric): value
        for path, metric, value in UnitTarget.objects.filter(
            campaign=campaign, unit__edition__in=editions
        ).values_list("unit__path", "metric", "value")
    }
    result = {}
    for unit in units:
        prefixes = []
        parts = unit.path.split("/")[:-1]
        for end in range(len(parts), 0, -1):
            prefixes.append("/".join(parts[:end]) + "/")
        targets = {}
        for metric in METRICS:
            targets[metric] = next(
                (overrides[(p, metric)] for p in prefixes if (p, metric) in overrides),
                base[metric],
            )
        result[unit.id] = targets
    return result


def with_pace(
    row: KpiRow,
    *,
    earlier: KpiRow | None,
    earlier_days: int,
    targets: dict[str, Decimal],
    on: dt.date,
    deadline: dt.date | None,
    level2: int,
) -> KpiRow:
    """Add the pace keys (EXTRA_FIELDS) to a KPI row; `earlier` is the KPI row of the same
    unit `earlier_days` days before (None when there is none)."""
    row["day"] = on.isoformat()
    row["deadline"] = deadline.isoformat() if deadline else None
    row["level2"] = level2
    row["level2_share"] = round(level2 / row["eligible"], 4) if row["eligible"] else 0.0
    for metric in METRICS:
        key = METRIC_COUNT[metric]
        before = earlier[key] if earlier is not None else None
        pace = pace_of(
            count=row[key],
            eligible=row["eligible"],
            target=targets[metric],
            on=on,
            deadline=deadline,
            earlier_count=before,
            earlier_days=earlier_days if earlier is not None else 0,
        )
        row[f"{metric}_target"] = pace.target
        row[f"{metric}_goal"] = pace.goal
        row[f"{metric}_percent_of_target"] = pace.percent_of_target
        row[f"{metric}_remaining"] = pace.remaining
        row[f"{metric}_required_pace"] = pace.required
        row[f"{metric}_pace_7d"] = pace.actual
        row[f"{metric}_gain_7d"] = row[key] - before if before is not None else None
        row[f"{metric}_rate_change_7d"] = (
            round(row[f"{metric}_rate"] - earlier[f"{metric}_rate"], 4)
            if earlier is not None
            else None
        )
        row[f"{metric}_projected_date"] = pace.projected.isoformat() if pace.projected else None
        row[f"{metric}_status"] = pace.status
    return row


def kpi_rows(
    unit: AdminUnit, *, depth: int = 1, on: dt.date | None = None, min_age: int | None = None
) -> list[KpiRow]:
    """The KPI row of `unit` and of its descendants down to `depth` levels, in tree order.

    Each row has the contract keys (KPI_FIELDS) and then EXTRA_FIELDS: the day counted, the
    deadline, level-2 count and share, and per metric (registration, activation, usage) its
    target, goal, % of target, remaining, required daily pace, 7-day pace and gain, projected
    date and status (see gocua/reports/pace.py). `min_age` defaults to the current campaign's.
    """
    on = on or rollups.today()
    shown = list(units_in_subtree(unit).filter(depth__lte=unit.depth + depth).order_by("path"))
    ids = [u.id for u in shown]
    state = rollups.rollup_state()
    campaign = current_campaign(unit)
    deadline = campaign.deadline if campaign else None
    targets = unit_targets(shown, campaign)
    if min_age is None:
        min_age = campaign.min_age if campaign else DEFAULT_MIN_AGE
    rows: list[KpiRow] = []
    # Stale rows still answer (as of when they went stale) while the worker rebuilds them.
    same_age = state is not None and (state.min_age == min_age or state.stale_since is not None)
    if state is not None and same_age and state.first_day <= on <= state.day:
        earlier_day = max(on - dt.timedelta(days=7), state.first_day)
        counts = rollup_counts(ids, {on, earlier_day})
        for u in shown:
            now = counts.get((u.id, on)) or _row_counts(None)
            row = kpi_row(u, now)
            earlier = None
            if earlier_day < on:
                earlier = kpi_row(u, counts.get((u.id, earlier_day)) or _row_counts(None))
            rows.append(
                with_pace(
                    row,
                    earlier=earlier,
                    earlier_days=(on - earlier_day).days,
                    targets=targets[u.id],
                    on=on,
                    deadline=deadline,
                    level2=now["level2"],
                )
            )
        return rows
    totals = _live_counts(unit, shown, on, min_age)
    for u in shown:
        live = totals[u.id]
        rows.append(
            with_pace(
                kpi_row(u, live),
                earlier=None,
                earlier_days=0,
                targets=targets[u.id],
                on=on,
                deadline=deadline,
                level2=live["level2"],
            )
        )
    return rows
