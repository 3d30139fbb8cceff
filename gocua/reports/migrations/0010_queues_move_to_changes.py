"""The queues of visits and of imported residents move to the outbox (gocua.changes), with
the rows waiting in them, and the state row learns when the worker last folded."""

from django.db import migrations, models


def queues_move(apps, schema_editor):
    for name in ("PendingVisit", "PendingResidents"):
        old = apps.get_model("reports", name)
        new = apps.get_model("changes", name)
        fields = [f.attname for f in old._meta.concrete_fields]
        rows = old.objects.values_list(*fields)
        new.objects.bulk_create(
            [new(**dict(zip(fields, row, strict=True))) for row in rows.iterator()],
            batch_size=5000,
        )


def queues_move_back(apps, schema_editor):
    for name in ("PendingVisit", "PendingResidents"):
        old = apps.get_model("reports", name)
        new = apps.get_model("changes", name)
        fields = [f.attname for f in new._meta.concrete_fields]
        rows = new.objects.values_list(*fields)
        old.objects.bulk_create(
            [old(**dict(zip(fields, row, strict=True))) for row in rows.iterator()],
            batch_size=5000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("changes", "0001_initial"),
        ("reports", "0009_snapshot_without_birth_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="rollupstate",
            name="folded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(queues_move, queues_move_back),
        migrations.DeleteModel(name="PendingResidents"),
        migrations.DeleteModel(name="PendingVisit"),
    ]
