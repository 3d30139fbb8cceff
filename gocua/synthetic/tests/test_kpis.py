"""The Tây Ninh shape: about 85 % / 30 % at day 0, 98 % / 65 % on the last day."""

import datetime as dt

from django.utils import timezone

from gocua.people.models import Resident, StageEvent
from gocua.reports.selectors import eligible_residents, kpi_rows

REGISTERED = {"registered", "approved", "failed", "activated", "used"}


def test_it_reaches_the_tay_ninh_shape_on_the_last_day(province, db):
    [row] = kpi_rows(province.unit, depth=0, on=province.today, min_age=14)
    assert abs(row["registration_rate"] - 0.98) <= 0.02
    assert abs(row["activation_rate"] - 0.65) <= 0.02
    assert 0.2 <= row["usage_rate"] <= 0.5
    assert row["eligible"] > 0.65 * province.people


def test_it_starts_from_a_realistic_day_zero(province, db):
    start = dt.datetime.combine(
        province.today - dt.timedelta(days=59), dt.time(), timezone.get_current_timezone()
    )
    eligible = eligible_residents(province.unit, province.today, 14)
    before = {}
    for resident_id, to_stage in (
        StageEvent.objects.filter(resident__in=eligible, at__lt=start)
        .order_by("at", "id")
        .values_list("resident_id", "to_stage")
    ):
        before[resident_id] = to_stage
    n = eligible.count()
    registered = sum(stage in REGISTERED for stage in before.values()) / n
    activated = sum(stage in ("activated", "used") for stage in before.values()) / n
    assert abs(registered - 0.85) <= 0.03
    assert abs(activated - 0.30) <= 0.03


def test_it_has_communes_that_lead_and_communes_that_lag(province, db):
    rows = [
        r for r in kpi_rows(province.unit, depth=2, on=province.today) if r["level"] == "commune"
    ]
    rates = sorted(r["activation_rate"] for r in rows if r["eligible"] >= 20)
    assert rates[-1] - rates[0] >= 0.15
    districts = [
        r for r in kpi_rows(province.unit, depth=1, on=province.today) if r["level"] == "district"
    ]
    assert (
        max(r["activation_rate"] for r in districts) - min(r["activation_rate"] for r in districts)
        >= 0.04
    )
    assert (
        Resident.objects.filter(unit__path__startswith=province.unit.path).count()
        == province.people
    )
