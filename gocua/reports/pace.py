"""Pace to the deadline: what is left, how fast it must go, how fast it goes, and when it ends.

Definitions (pure functions; the numbers a province command reads every morning):
- goal = ceil(target x eligible); remaining = max(goal - count, 0).
- days left = the days after the counted day up to and including the deadline.
- required daily pace = remaining / days left (None once the deadline has passed).
- 7-day actual pace = (count on the day - count 7 days earlier) / 7; when the series is
  shorter than a week, over the days it has (None on its first day).
- projected date = the counted day + ceil(remaining / actual pace) days (None when the pace is
  not positive; the counted day itself when the goal is already reached).
- status, from ratio = actual pace / required pace:
    on_track   the goal is reached, or ratio >= 1 (the projected date is on or before the
               deadline);
    at_risk    AT_RISK_RATIO <= ratio < 1: at this pace the work takes at most 25% longer
               than the days left — a push closes the gap;
    off_track  ratio < AT_RISK_RATIO, no progress at all, or the deadline has come with the
               goal not reached;
    None       no earlier day to measure a pace on yet (and no deadline: no status at all).
"""

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_noop

ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"
AT_RISK_RATIO = 0.8
# Marked for the catalogue only: the dashboard translates them, the XLSX report stays Vietnamese.
STATUS_LABELS = {
    ON_TRACK: gettext_noop("Đúng tiến độ"),
    AT_RISK: gettext_noop("Có nguy cơ chậm"),
    OFF_TRACK: gettext_noop("Chậm tiến độ"),
}


@dataclass(frozen=True)
class Pace:
    target: float
    goal: int
    count: int
    remaining: int
    percent_of_target: float | None
    required: float | None
    actual: float | None
    projected: dt.date | None
    status: str | None


def goal_of(target: Decimal | float, eligible: int) -> int:
    """ceil(target x eligible), exactly (0.98 x 50 is 49, not 49.00000000000001 → 50)."""
    return math.ceil(Decimal(str(target)) * eligible)


def status_of(*, remaining: int, required: float | None, actual: float | None) -> str | None:
    """None only when there is no history yet to measure a pace on (the series' first day)."""
    if remaining <= 0:
        return ON_TRACK
    if required is None:  # the deadline has come with the goal not reached
        return OFF_TRACK
    if actual is None:
        return None
    if actual <= 0:
        return OFF_TRACK
    ratio = actual / required
    if ratio >= 1:
        return ON_TRACK
    if ratio >= AT_RISK_RATIO:
        return AT_RISK
    return OFF_TRACK


def pace_of(
    *,
    count: int,
    eligible: int,
    target: Decimal | float,
    on: dt.date,
    deadline: dt.date | None,
    earlier_count: int | None,
    earlier_days: int,
) -> Pace:
    """`earlier_count` is the count `earlier_days` days before `on` (7, or fewer at the start
    of the series; None or 0 days when there is no earlier day)."""
    goal = goal_of(target, eligible)
    remaining = max(goal - count, 0)
    actual = None
    if earlier_count is not None and earlier_days > 0:
        actual = (count - earlier_count) / earlier_days
    required = None
    if deadline is not None:
        days_left = (deadline - on).days
        if days_left > 0:
            required = remaining / days_left
        elif remaining == 0:
            required = 0.0
    if remaining == 0:
        projected = on
    elif actual is not None and actual > 0:
        projected = on + dt.timedelta(days=math.ceil(remaining / actual))
    else:
        projected = None
    status = status_of(remaining=remaining, required=required, actual=actual) if deadline else None
    return Pace(
        target=float(target),
        goal=goal,
        count=count,
        remaining=remaining,
        percent_of_target=round(count / goal, 4) if goal else None,
        required=round(required, 2) if required is not None else None,
        actual=round(actual, 2) if actual is not None else None,
        projected=projected,
        status=status,
    )
