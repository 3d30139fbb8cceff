"""Tasks of the worker itself."""

import datetime as dt

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

KEEP_FINISHED = dt.timedelta(days=7)


@task(queue_name="quick")
def tasks_prune() -> int:
    """Delete finished task results older than a week (each periodic job leaves one)."""
    deleted, _ = (
        DBTaskResult.objects.finished()
        .filter(finished_at__lt=timezone.now() - KEEP_FINISHED)
        .delete()
    )
    return deleted
