from django.db import migrations, models


def extra_leaders(leaders):
    """Of (member id, team id, active) rows of leaders, the ids to untick so each team keeps
    one, chosen the same way on every database: an active leader before a removed one, then
    the earliest added (lowest id)."""
    seen: set[int] = set()
    extra = []
    for member_id, team_id, _active in sorted(leaders, key=lambda r: (r[1], not r[2], r[0])):
        if team_id in seen:
            extra.append(member_id)
        seen.add(team_id)
    return extra


def keep_one_leader(apps, schema_editor):
    Member = apps.get_model("campaigns", "Member")
    rows = Member.objects.filter(is_leader=True).values_list("id", "team_id", "active")
    extra = extra_leaders(list(rows))
    for start in range(0, len(extra), 500):
        Member.objects.filter(pk__in=extra[start : start + 500]).update(is_leader=False)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_current_per_province"),
    ]

    operations = [
        migrations.RunPython(keep_one_leader, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_leader", True)),
                fields=("team",),
                name="one_leader_per_team",
            ),
        ),
    ]
