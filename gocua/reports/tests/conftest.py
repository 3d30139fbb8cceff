"""Fixtures for the reports tests: a current campaign around today, teams, and small CSVs."""

import csv
import datetime as dt
import itertools

import pytest
from django.utils import timezone

_serial = itertools.count(500_000)


@pytest.fixture
def campaign(tree):
    """The current campaign: started 20 days ago, deadline in 40 days, minimum age 14."""
    from gocua.campaigns.models import Campaign

    today = timezone.localdate()
    return Campaign.objects.create(
        name="Chiến dịch 60 ngày",
        province=tree.province,
        start_date=today - dt.timedelta(days=20),
        deadline=today + dt.timedelta(days=40),
        min_age=14,
        target_registration=1,
        target_activation="0.9",
        target_usage="0.6",
        is_current=True,
    )


@pytest.fixture
def teams(campaign, tree):
    """Commune teams of Xã A (3 members: KP1, KP1, KP2) and Xã B (1 member: its KP1)."""
    from gocua.campaigns.models import Assignment, Member, Team

    team_a = Team.objects.create(campaign=campaign, unit=tree.xa_a, name="Tổ VNeID Phường 1")
    team_b = Team.objects.create(campaign=campaign, unit=tree.xa_b, name="Tổ VNeID Phường 3")
    members = {
        "an": Member.objects.create(team=team_a, full_name="Trần Văn An", affiliation="police"),
        "binh": Member.objects.create(
            team=team_a, full_name="Lê Thị Bình", affiliation="youth_union"
        ),
        "cuong": Member.objects.create(
            team=team_a, full_name="Phạm Cường", affiliation="youth_union"
        ),
        "dung": Member.objects.create(team=team_b, full_name="Võ Dũng", affiliation="police"),
    }
    for name, hamlet in (
        ("an", tree.kp1),
        ("binh", tree.kp1),
        ("cuong", tree.kp2),
        ("dung", tree.b_kp1),
    ):
        Assignment.objects.create(member=members[name], hamlet=hamlet)
    return type("Teams", (), {"a": team_a, "b": team_b, **members})()


def national_id(born: dt.date, sex: str = "M") -> str:
    from gocua.lib.nid import make

    return make(province_code="072", sex=sex, birth_year=born.year, serial=next(_serial))


def write_csv(path, header: list[str], rows: list[list]) -> str:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


CITIZEN_HEADER = [
    "national_id",
    "full_name",
    "birth_date",
    "sex",
    "phone",
    "unit_code",
    "hamlet",
    "household_id",
    "address",
    "eid_stage",
    "eid_level",
]
STAGE_HEADER = ["national_id", "eid_stage", "eid_level", "stage_at", "last_used_at"]
