"""Helpers shared by the campaigns and fieldwork tests (synthetic data only)."""

import datetime as dt
import itertools

from django.utils import timezone

_addresses = itertools.count(1)


def make_household(unit, *, address: str | None = None, code: str = ""):
    from gocua.people.models import Household

    return Household.objects.create(
        unit=unit,
        address=address or f"{next(_addresses)} Đường Cách Mạng Tháng Tám",
        code=code,
        province_code="72",
    )


def at_local(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def fill_team(team, *, police: int, youth: int, **more: int):
    from gocua.campaigns.models import Member

    members = []
    for affiliation, n in (("police", police), ("youth_union", youth), *more.items()):
        for i in range(n):
            members.append(
                Member.objects.create(
                    team=team, full_name=f"{affiliation} {i + 1}", affiliation=affiliation
                )
            )
    return members
