"""A new installation starts with built (empty) rollups: its first import keeps them current,
and nobody has to know that `gocua rollup rebuild` exists. An installation that already has
residents (an upgrade) is left alone: the worker finds its rollups missing and rebuilds them."""

import datetime as dt

from django.db import migrations
from django.utils import timezone


def build_empty(apps, schema_editor):
    RollupState = apps.get_model("reports", "RollupState")
    Resident = apps.get_model("people", "Resident")
    if RollupState.objects.exists() or Resident.objects.exists():
        return
    today = timezone.localdate()
    RollupState.objects.create(
        pk=1,
        first_day=today - dt.timedelta(days=59),
        day=today,
        min_age=14,
        built_at=timezone.now(),
        swept_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_rollupstate_stale"),
        ("people", "0004_resident_move"),
    ]

    operations = [migrations.RunPython(build_empty, migrations.RunPython.noop)]
