"""The visit queue is a table of short-lived rows: every fold deletes what posts inserted. On
PostgreSQL its dead rows stay in the heap until a VACUUM, and every fold's `LIMIT` read and
"not queued" check walk through them. Autovacuum's default waits for 20% of the table to be
dead, which a queue that empties itself never reaches for long; here it vacuums at each of its
rounds (a minute apart by default) once 1,000 rows are dead."""

from django.db import migrations

TABLE = "reports_pendingvisit"


def vacuum_often(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0, "
            "autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0)"
        )


def vacuum_as_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} RESET (autovacuum_vacuum_scale_factor, "
            "autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay)"
        )


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_pendingvisit")]

    operations = [migrations.RunPython(vacuum_often, vacuum_as_default)]
