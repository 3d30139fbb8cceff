"""Helpers for the fieldwork view tests."""

import datetime as dt
import uuid

from django.utils import timezone

from gocua.campaigns.tests.factories import at_local, make_household
from gocua.fieldwork.models import Visit
from gocua.fieldwork.visits import CREATED, REJECTED, NewVisit, visits_record


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


def visit_record(
    *,
    member,
    household,
    at,
    outcomes,
    location=None,
    client_id=None,
    recorded_by=None,
    note: str = "",
):
    """One visit through visits_record, as the web form sends it (the refusals name the
    household by its address): (the Visit, whether it is new), or VisitRefused."""
    if isinstance(location, dict):
        lat, lon = location.get("lat"), location.get("lon")
        location = None if lat is None or lon is None else (lat, lon)
    visit = NewVisit(
        id=uuid.uuid4() if client_id is None else client_id,
        household=household.pk,
        at=at,
        outcomes=tuple(outcomes),
        location=location,
        note=note,
        address=str(household),
    )
    [result] = visits_record(member=member, visits=[visit], actor=recorded_by)
    if result.status == REJECTED:
        raise result.refusal()
    return Visit.objects.get(pk=result.id), result.status == CREATED
