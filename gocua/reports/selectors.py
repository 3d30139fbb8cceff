"""KPI reads: the funnel of any unit's subtree, for the unit and its descendants."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q
from django.utils import timezone

from gocua.geo.models import AdminUnit
from gocua.geo.selectors import units_in_subtree
from gocua.people.models import Resident

DEFAULT_MIN_AGE = 14
COUNTED = ("none", "registered", "approved", "failed", "activated", "used")


def min_age_now() -> int:
    from gocua.campaigns.models import Campaign

    campaign = Campaign.objects.filter(is_current=True).only("min_age").first()
    return campaign.min_age if campaign else DEFAULT_MIN_AGE


def eligibility_cutoff(on: dt.date, min_age: int) -> dt.date:
    """The latest birth date that is `min_age` years old on `on` (29 Feb → 28 Feb)."""
    try:
        return on.replace(year=on.year - min_age)
    except ValueError:
        return on.replace(year=on.year - min_age, day=28)


def eligible_residents(unit: AdminUnit, on: dt.date, min_age: int):
    """Alive, resident, aged `min_age` or more on `on`."""
    return Resident.objects.filter(
        unit__edition=unit.edition,
        unit__path__startswith=unit.path,
        deceased=False,
        moved_out=False,
        birth_date__lte=eligibility_cutoff(on, min_age),
    )


def stage_counts_by_unit(unit: AdminUnit, on: dt.date, min_age: int) -> dict[str, dict[str, int]]:
    """{unit path: {stage: count}} for every unit under `unit` that has residents."""
    aggregates = {stage: Count("id", filter=Q(eid_stage=stage)) for stage in COUNTED}
    rows = (
        eligible_residents(unit, on, min_age)
        .values("unit__path")
        .annotate(**aggregates)
        .order_by()
    )
    return {row.pop("unit__path"): row for row in rows}


def kpi_row(unit: AdminUnit, counts: dict[str, int]) -> dict:
    eligible = sum(counts.get(s, 0) for s in COUNTED)
    registered = sum(counts.get(s, 0) for s in ("registered", "approved", "failed", "activated", "used"))
    activated = counts.get("activated", 0) + counts.get("used", 0)
    used = counts.get("used", 0)

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


def kpi_rows(unit: AdminUnit, *, depth: int = 1, on: dt.date | None = None,
             min_age: int | None = None) -> list[dict]:
    """The KPI row of `unit` and of its descendants down to `depth` levels, in tree order."""
    on = on or timezone.localdate()
    min_age = DEFAULT_MIN_AGE if min_age is None else min_age
    shown = list(
        units_in_subtree(unit).filter(depth__lte=unit.depth + depth).order_by("path")
    )
    by_path = {u.path: u for u in shown}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for path, counts in stage_counts_by_unit(unit, on, min_age).items():
        # Add each leaf's counts to every shown ancestor: O(leaves x depth), no per-unit query.
        parts = path.split("/")[:-1]
        for end in range(len(parts), 0, -1):
            prefix = "/".join(parts[:end]) + "/"
            if prefix in by_path:
                bucket = totals[prefix]
                for stage in COUNTED:
                    bucket[stage] += counts[stage]
            if prefix == unit.path:
                break
    return [kpi_row(u, totals[u.path]) for u in shown]


KPI_FIELDS = [
    "unit_code", "unit_name", "level", "eligible", "registered", "approved", "failed",
    "activated", "used", "registration_rate", "activation_rate", "usage_rate",
]
