"""The periodic jobs the workers run themselves (no cron): each is a task enqueued when due.

Add one here and it runs on every installation: the worker that finds it due first enqueues
it (see gocua.worker.services.schedules_fire), so it runs once however many workers there are.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str  # dotted path of a django-tasks Task
    every: dt.timedelta | None = None
    daily_at: dt.time | None = None  # local time (Asia/Ho_Chi_Minh)

    def next_after(self, now: dt.datetime) -> dt.datetime:
        if self.every is not None:
            return now + self.every
        assert self.daily_at is not None
        local = timezone.localtime(now)
        due = local.replace(
            hour=self.daily_at.hour, minute=self.daily_at.minute, second=0, microsecond=0
        )
        if due <= local:
            due += dt.timedelta(days=1)
        return due


SCHEDULE = (
    # Just after midnight: birthdays join the day's denominator, the queued visits are
    # counted, and residents edited by a path that forgot the rollups are re-read.
    Periodic("rollup_roll", "gocua.reports.tasks.rollup_roll", daily_at=dt.time(0, 5)),
    # The rollups exist and are current: built empty on a new installation, rebuilt when they
    # are missing or stale (an upgrade, a campaign change), what the write paths queued in
    # gocua.changes counted. The only writer of the rollups besides the folds posts ask for:
    # pages say "figures as of" its last round.
    Periodic(
        "rollup_maintain", "gocua.reports.tasks.rollup_maintain", every=dt.timedelta(seconds=5)
    ),
    # Finished task results older than a week.
    Periodic("tasks_prune", "gocua.worker.tasks.tasks_prune", daily_at=dt.time(3, 0)),
)
