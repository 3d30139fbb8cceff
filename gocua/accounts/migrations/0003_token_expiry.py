import datetime as dt

from django.db import migrations, models
from django.utils.crypto import salted_hmac

# The stamp as gocua.accounts.services.password_stamp makes it (a migration must not import
# the services, which change): tokens live before the upgrade keep working.
STAMP_SALT = "gocua.accounts.ApiToken.password_stamp"


def fill(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.select_related("user"):
        token.expires_at = token.created_at + dt.timedelta(days=180)
        token.password_stamp = salted_hmac(
            STAMP_SALT, token.user.password, algorithm="sha256"
        ).hexdigest()
        token.save(update_fields=["expires_at", "password_stamp"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_user_full_name_token_prefix")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="password_stamp",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
        migrations.AddField(
            model_name="user",
            name="login_generation",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
