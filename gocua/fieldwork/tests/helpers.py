"""Helpers for the fieldwork view tests."""

import datetime as dt

from django.utils import timezone

from gocua.campaigns.tests.factories import at_local, make_household


def street(unit, resident_factory, n: int, *, prefix: str = "Nguyễn Trãi"):
    """`n` households in `unit`, each with one unregistered and one registered resident."""
    households = []
    for i in range(n):
        h = make_household(unit, address=f"{i + 1:03d} {prefix}")
        resident_factory(unit, household=h, name=f"Người {i} A")
        resident_factory(
            unit, household=h, name=f"Người {i} B", stage="registered", elderly=i % 2 == 0
        )
        households.append(h)
    return households


def yesterday_at(hour: int) -> dt.datetime:
    return at_local(timezone.localdate() - dt.timedelta(days=1), hour)
