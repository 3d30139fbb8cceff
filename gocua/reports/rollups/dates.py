"""The day rules of the rollups: the counted day, who is old enough on a day, the first day."""

import datetime as dt

from django.utils import timezone

from gocua.campaigns.models import Campaign
from gocua.people.funnel import DEFAULT_MIN_AGE, eligibility_cutoff, eligible_from

__all__ = ["eligibility_cutoff", "eligible_from"]  # the funnel's, used here by name

LEAD_DAYS = 7  # rows start a week before the campaign, so the first week has a 7-day pace


def today() -> dt.date:
    """The counted day now (tests patch gocua.reports.rollups.dates.today)."""
    return timezone.localdate()


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def local_day(at: dt.datetime) -> dt.date:
    return timezone.localdate(at)


def as_date(value) -> dt.date:
    """A date read by hand-written SQL (SQLite gives text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def as_datetime(value) -> dt.datetime:
    """A timestamp read by hand-written SQL (SQLite gives UTC text)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def current_min_age() -> int:
    """The minimum age the rollups count with: that of the current campaigns (each province
    runs one) when they agree, else the default. A province whose campaign counts from
    another age is read live (exact, O(its residents)) until they agree again."""
    ages = set(Campaign.objects.filter(is_current=True).values_list("min_age", flat=True))
    return ages.pop() if len(ages) == 1 else DEFAULT_MIN_AGE


def default_first_day(last: dt.date) -> dt.date:
    """A week before the earliest current campaign starts (so its first week has a 7-day
    pace), or 60 days back without one."""
    starts = list(Campaign.objects.filter(is_current=True).values_list("start_date", flat=True))
    first = min(starts) - dt.timedelta(days=LEAD_DAYS) if starts else None
    if first is None or first > last:
        first = last - dt.timedelta(days=59)
    return first
