"""Nothing the generator writes is later than the moment it runs, whatever the hour: the demo
made at 01:09 once showed stage events and a "latest extract" at 05:29."""

import datetime as dt

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone


def timestamps_after(moment: dt.datetime) -> dict[str, set]:
    """For every model and every date-time column: the rows dated after `moment`."""
    late = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, models.DateTimeField):
                rows = set(
                    model._base_manager.filter(**{f"{f.name}__gt": moment}).values_list(
                        "pk", flat=True
                    )
                )
                if rows:
                    late[f"{model._meta.label}.{f.name}"] = rows
    return late


@pytest.mark.parametrize("hour, minute", [(1, 9), (0, 0)])
def test_a_run_in_the_small_hours_writes_nothing_after_it(province, db, monkeypatch, hour, minute):
    from gocua.synthetic.services import province_generate

    run = dt.datetime.combine(
        timezone.localdate(), dt.time(hour, minute, 30), timezone.get_current_timezone()
    )
    before = timestamps_after(run)  # rows other tests' fixtures left, later in the real day
    monkeypatch.setattr(timezone, "now", lambda: run)
    # The package's province again (--replace, undone with the test's transaction).
    summary = province_generate(province_code="72", edition=2023, people=300, seed=5, replace=True)
    assert summary.stage_events and summary.visits
    late = {
        column: rows - before.get(column, set())
        for column, rows in timestamps_after(run).items()
        if rows - before.get(column, set())
    }
    assert late == {}
