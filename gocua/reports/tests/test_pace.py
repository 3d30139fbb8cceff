"""Pace to the deadline on hand-made numbers (pure functions, no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from gocua.reports.pace import AT_RISK, OFF_TRACK, ON_TRACK, goal_of, pace_of, status_of

DAY = dt.date(2026, 11, 10)
DEADLINE = dt.date(2026, 12, 31)  # 51 days after DAY


def test_it_rounds_the_goal_up_exactly():
    assert goal_of(Decimal("0.98"), 50) == 49  # not 50 from 49.000000000000004
    assert goal_of(Decimal("0.98"), 51) == 50  # 49.98 → 50
    assert goal_of(Decimal("0.65"), 1000) == 650
    assert goal_of(1, 0) == 0


def test_it_measures_required_and_actual_pace_and_projects_the_date():
    # 1,000 eligible, target 65%: goal 650; 395 activated, 325 a week ago: 10/day.
    pace = pace_of(
        count=395,
        eligible=1000,
        target=Decimal("0.65"),
        on=DAY,
        deadline=DEADLINE,
        earlier_count=325,
        earlier_days=7,
    )
    assert pace.goal == 650 and pace.remaining == 255
    assert pace.required == 5.0  # 255 over the 51 days left
    assert pace.actual == 10.0
    assert pace.projected == DAY + dt.timedelta(days=26)  # ceil(255 / 10)
    assert pace.percent_of_target == pytest.approx(395 / 650, abs=1e-4)
    assert pace.status == ON_TRACK


def test_it_measures_a_short_series_over_the_days_it_has():
    pace = pace_of(
        count=30, eligible=100, target=1, on=DAY, deadline=DEADLINE, earlier_count=0, earlier_days=3
    )
    assert pace.actual == 10.0
    first_day = pace_of(
        count=30,
        eligible=100,
        target=1,
        on=DAY,
        deadline=DEADLINE,
        earlier_count=None,
        earlier_days=0,
    )
    assert first_day.actual is None and first_day.projected is None and first_day.status is None


def test_it_projects_nothing_without_progress_and_today_once_reached():
    stalled = pace_of(
        count=40,
        eligible=100,
        target=1,
        on=DAY,
        deadline=DEADLINE,
        earlier_count=40,
        earlier_days=7,
    )
    assert stalled.actual == 0 and stalled.projected is None and stalled.status == OFF_TRACK
    done = pace_of(
        count=99,
        eligible=100,
        target=Decimal("0.98"),
        on=DAY,
        deadline=DEADLINE,
        earlier_count=90,
        earlier_days=7,
    )
    assert done.remaining == 0 and done.projected == DAY and done.status == ON_TRACK


@pytest.mark.parametrize(
    ("actual", "required", "status"),
    [
        (10.0, 10.0, ON_TRACK),  # ratio 1: lands on the deadline
        (12.0, 10.0, ON_TRACK),
        (9.99, 10.0, AT_RISK),
        (8.0, 10.0, AT_RISK),  # ratio 0.8: the lower bound of at-risk
        (7.99, 10.0, OFF_TRACK),
        (0.0, 10.0, OFF_TRACK),
        (-1.0, 10.0, OFF_TRACK),  # stages going backwards
    ],
)
def test_it_sets_the_status_from_actual_over_required_pace(actual, required, status):
    assert status_of(remaining=100, required=required, actual=actual) == status


def test_it_is_off_track_once_the_deadline_comes_short_of_the_goal():
    late = pace_of(
        count=80,
        eligible=100,
        target=1,
        on=DEADLINE,
        deadline=DEADLINE,
        earlier_count=60,
        earlier_days=7,
    )
    assert late.required is None and late.status == OFF_TRACK
    assert status_of(remaining=0, required=None, actual=None) == ON_TRACK


def test_it_agrees_that_on_track_means_projected_by_the_deadline():
    for actual_per_week in range(1, 200):
        pace = pace_of(
            count=500,
            eligible=1000,
            target=Decimal("0.9"),
            on=DAY,
            deadline=DEADLINE,
            earlier_count=500 - actual_per_week,
            earlier_days=7,
        )
        assert (pace.status == ON_TRACK) == (pace.projected <= DEADLINE)
