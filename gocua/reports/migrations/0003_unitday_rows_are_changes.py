"""UnitDay's stage columns now hold each day's change (the stock is their running sum), no
longer the stock itself. Rows built the old way are dropped with the state row, so reads fall
back to live queries until `gocua rollup rebuild` (which `gocua generate` runs) rebuilds them."""

from django.db import migrations


def drop_old_rollups(apps, schema_editor):
    apps.get_model("reports", "UnitDay").objects.all().delete()
    apps.get_model("reports", "RollupState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_rollupstate_swept_at")]

    operations = [migrations.RunPython(drop_old_rollups, migrations.RunPython.noop)]
