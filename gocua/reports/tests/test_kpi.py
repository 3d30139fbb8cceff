"""KPI maths: denominators on the counted day, targets, pace from the daily rollups."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import make_resident
from gocua.reports import rollups
from gocua.reports.selectors import KPI_FIELDS, kpi_rows

pytestmark = pytest.mark.django_db


def at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def staged(unit, stage: str, *, on: dt.date, born=dt.date(1985, 4, 2), **flags):
    """A resident who moved from `none` to `stage` on `on` (with its StageEvent)."""
    from gocua.people.models import StageEvent

    resident = make_resident(unit, born=born, stage=stage, **flags)
    StageEvent.objects.create(
        resident=resident,
        from_stage="none",
        to_stage=stage,
        to_level=2,
        at=at_noon(on),
        source="extract",
    )
    return resident


def row_of(rows, code):
    return next(r for r in rows if r["unit_code"] == code)


@pytest.mark.parametrize("built", [True, False], ids=["rollups", "live"])
def test_it_counts_the_eligible_on_the_counted_day(tree, campaign, built):
    today = timezone.localdate()
    cutoff = rollups.eligibility_cutoff(today, 14)
    make_resident(tree.kp1, born=cutoff)  # 14 today
    make_resident(tree.kp1, born=cutoff + dt.timedelta(days=1))  # 14 tomorrow
    make_resident(tree.kp1, born=dt.date(1950, 1, 1), stage="registered", deceased=True)
    make_resident(tree.kp2, born=dt.date(1970, 1, 1), stage="activated", moved_out=True)
    make_resident(tree.kp2, born=dt.date(1970, 1, 1), stage="used")
    make_resident(tree.b_kp1, born=dt.date(1990, 1, 1), stage="failed", away=True)
    if built:
        rollups.rollup_rebuild()
    rows = kpi_rows(tree.province, depth=3)
    assert list(rows[0])[: len(KPI_FIELDS)] == KPI_FIELDS
    province = rows[0]
    assert (
        province["eligible"],
        province["registered"],
        province["failed"],
        province["activated"],
        province["used"],
    ) == (3, 2, 1, 1, 1)
    assert province["registration_rate"] == 0.6667 and province["usage_rate"] == 0.3333
    assert row_of(rows, "25456-01")["eligible"] == 1  # not yet the one turning 14 tomorrow
    assert row_of(rows, "25456-02")["eligible"] == 1  # the one who moved out is not counted
    assert row_of(rows, "25459")["eligible"] == 1  # away is still a resident

    yesterday = kpi_rows(tree.kp1, depth=0, on=today - dt.timedelta(days=1))[0]
    assert yesterday["eligible"] == 0  # 14 only since today
    if built:
        tomorrow = today + dt.timedelta(days=1)
        rollups_tomorrow = kpi_rows(tree.kp1, depth=0, on=tomorrow)[0]  # a day not rolled yet
        assert rollups_tomorrow["eligible"] == 2


def test_it_uses_the_campaign_minimum_age_and_rebuilds_for_a_new_one(tree, campaign):
    today = timezone.localdate()
    make_resident(tree.kp1, born=rollups.eligibility_cutoff(today, 15))  # 15 today
    make_resident(tree.kp1, born=dt.date(1990, 1, 1))
    rollups.rollup_rebuild()
    assert kpi_rows(tree.kp1, depth=0)[0]["eligible"] == 2
    campaign.min_age = 16
    campaign.save(update_fields=["min_age"])
    # The rollups were built for 14: the answer comes from the residents until a rebuild.
    assert kpi_rows(tree.kp1, depth=0)[0]["eligible"] == 1
    rollups.rollup_rebuild()
    assert kpi_rows(tree.kp1, depth=0)[0]["eligible"] == 1


def test_it_takes_the_target_of_the_nearest_ancestor_that_overrides_it(tree, campaign):
    from gocua.campaigns.models import UnitTarget

    UnitTarget.objects.create(
        campaign=campaign, unit=tree.district, metric="activation", value=Decimal("0.5")
    )
    UnitTarget.objects.create(
        campaign=campaign, unit=tree.xa_a, metric="activation", value=Decimal("0.7")
    )
    for _ in range(10):
        make_resident(tree.kp1)
        make_resident(tree.b_kp1)
    rows = kpi_rows(tree.province, depth=3)
    targets = {r["unit_code"]: r["activation_target"] for r in rows}
    assert targets == {
        "72": 0.9,
        "703": 0.5,
        "705": 0.9,
        "25456": 0.7,
        "25459": 0.5,
        "25489": 0.9,
        "25456-01": 0.7,
        "25456-02": 0.7,
        "25459-01": 0.5,
    }
    assert row_of(rows, "25456")["registration_target"] == 1.0  # other metrics: the campaign's
    assert row_of(rows, "25456")["activation_goal"] == 7  # ceil(0.7 x 10)
    assert row_of(rows, "25456")["activation_remaining"] == 7


def test_it_paces_registration_from_the_last_seven_days_of_the_series(tree, campaign):
    today = timezone.localdate()
    before = campaign.start_date - dt.timedelta(days=10)
    for _ in range(30):
        staged(tree.kp1, "registered", on=before)
    for days_ago in range(7):  # 2 dossiers a day for the last 7 days
        for _ in range(2):
            staged(tree.kp1, "registered", on=today - dt.timedelta(days=days_ago))
    staged(tree.kp1, "activated", on=today - dt.timedelta(days=9))
    for _ in range(55):
        make_resident(tree.kp1)
    rollups.rollup_rebuild()
    row = kpi_rows(tree.kp1, depth=0)[0]
    assert (row["eligible"], row["registered"], row["activated"]) == (100, 45, 1)
    # Registration: goal 100, 55 left over 40 days → 1.38/day needed; 14 in 7 days → 2/day.
    assert row["registration_remaining"] == 55
    assert row["registration_required_pace"] == 1.38
    assert row["registration_pace_7d"] == 2.0 and row["registration_gain_7d"] == 14
    assert row["registration_projected_date"] == (today + dt.timedelta(days=28)).isoformat()
    assert row["registration_status"] == "on_track"
    assert row["registration_rate_change_7d"] == 0.14
    # Activation: target 0.9 → goal 90, nothing in the last 7 days.
    assert row["activation_goal"] == 90 and row["activation_remaining"] == 89
    assert row["activation_pace_7d"] == 0 and row["activation_projected_date"] is None
    assert row["activation_status"] == "off_track"
    # The series itself: 7 days ago the rollups counted 31 registered.
    week_ago = kpi_rows(tree.kp1, depth=0, on=today - dt.timedelta(days=7))[0]
    assert week_ago["registered"] == 31


def test_it_marks_a_slower_unit_at_risk(tree, campaign):
    today = timezone.localdate()
    for days_ago in range(7):  # 1 a day; 43 to go in 40 days → 1.07/day: ratio 0.93
        staged(tree.kp2, "registered", on=today - dt.timedelta(days=days_ago))
    for _ in range(43):
        make_resident(tree.kp2)
    rollups.rollup_rebuild()
    row = kpi_rows(tree.kp2, depth=0)[0]
    assert row["registration_remaining"] == 43
    assert row["registration_pace_7d"] == 1.0
    assert row["registration_required_pace"] == 1.07
    assert row["registration_status"] == "at_risk"
