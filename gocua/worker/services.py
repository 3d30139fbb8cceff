"""The background worker's own bookkeeping: who is alive, which tasks to give back to the
queue, which periodic jobs are due, and enqueuing a task that must not be queued twice.

The queue itself is django-tasks' database backend (django-tasks-db): tasks are rows, claimed
by one worker at a time. What it does not do, done here: a task whose worker was killed (kill
-9, a lost machine) stays "running" for ever; a worker that stopped beating for
dead_after() gives its running tasks back to the queue, where another (or the same, restarted) takes them.
Every task of GõCửa is written to be run again after such a death and end in the same state
(an import resumes after its last committed chunk).
"""

import datetime as dt
import os
import socket
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResult, TaskResultStatus
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from gocua.worker.models import Schedule, WorkerBeat
from gocua.worker.schedule import SCHEDULE, Periodic

P = ParamSpec("P")
T = TypeVar("T")

BEAT_EVERY = 5  # seconds between a worker's heartbeats


def dead_after() -> dt.timedelta:
    """A worker silent this long is gone (GOCUA_WORKER_DEAD_AFTER seconds, default 30): long
    enough for a busy machine's pause, short enough that a job waits half a minute at most."""
    return dt.timedelta(seconds=settings.WORKER_DEAD_AFTER)


def worker_beat(*, worker_id: str, started_at: dt.datetime) -> None:
    """This worker is alive (called every BEAT_EVERY seconds by its housekeeping thread)."""
    WorkerBeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "beat_at": timezone.now(),
        },
    )


def worker_gone(*, worker_id: str) -> None:
    """A worker that stops cleanly says so (its tasks finished or went back to the queue)."""
    WorkerBeat.objects.filter(worker_id=worker_id).delete()


def tasks_recover(*, now: dt.datetime | None = None) -> int:
    """Give back to the queue the running tasks whose worker stopped beating DEAD_AFTER ago
    (or never beat at all and started that long ago). Returns how many. Idempotent: any live
    worker may run it at any time."""
    now = now or timezone.now()
    silence = dead_after()
    alive = set(
        WorkerBeat.objects.filter(beat_at__gte=now - silence).values_list("worker_id", flat=True)
    )
    return _give_back(
        lambda owner, started_at, _queue: (
            owner not in alive and (started_at is None or started_at <= now - silence)
        )
    )


def tasks_give_back(*, worker_id: str, queue: str) -> int:
    """Give back to the queue the task a worker's thread for `queue` was running when the
    database went away under it (a failover): the thread runs one task at a time, so a task
    of that queue still "running" in this worker's name is the one it lost. The worker keeps
    beating meanwhile, so tasks_recover would never take it back."""
    return _give_back(
        lambda owner, _started_at, task_queue: owner == worker_id and task_queue == queue
    )


def _give_back(lost: Callable[[str | None, dt.datetime | None, str], bool]) -> int:
    given = 0
    for task_id, worker_ids, started_at, queue in DBTaskResult.objects.running().values_list(
        "id", "worker_ids", "started_at", "queue_name"
    ):
        if lost(worker_ids[-1] if worker_ids else None, started_at, queue):
            given += DBTaskResult.objects.filter(
                pk=task_id, status=TaskResultStatus.RUNNING
            ).update(status=TaskResultStatus.READY, started_at=None)
    return given


def _uses_queue(task: Task[Any, Any]) -> bool:
    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue_once(task: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> TaskResult[T] | None:
    """Enqueue `task` unless one with the same arguments is already waiting (a second rebuild
    or fold queued behind the first would only repeat it). With a backend that runs tasks at
    once (tests), it simply runs. Returns the task result, or None when one was waiting."""
    if _uses_queue(task):
        waiting = DBTaskResult.objects.filter(
            task_path=task.module_path, status=TaskResultStatus.READY
        ).values_list("args_kwargs", flat=True)
        wanted = {"args": list(args), "kwargs": kwargs}
        if any(found == wanted for found in waiting):
            return None
    return task.enqueue(*args, **kwargs)


def enqueue_after_commit(task_path: str, *args: Any, **kwargs: Any) -> None:
    """Enqueue the task at `task_path` (dotted) once the current transaction commits: the
    task reads what it wrote. By path, so that a module the task calls can queue it without
    importing the module that defines it."""
    transaction.on_commit(
        lambda: enqueue_once(import_string(task_path), *args, **kwargs), robust=True
    )


def _due(periodic: Periodic, now: dt.datetime) -> bool:
    row, created = Schedule.objects.select_for_update(skip_locked=True).get_or_create(
        name=periodic.name,
        defaults={"next_at": now if periodic.every else periodic.next_after(now)},
    )
    if row.next_at > now:
        return False
    row.next_at = periodic.next_after(now)
    row.last_at = now
    row.save(update_fields=["next_at", "last_at"])
    return True


def schedules_fire(*, now: dt.datetime | None = None) -> list[str]:
    """Enqueue the periodic jobs that are due (gocua.worker.schedule); returns their names.
    One transaction per job: two workers never both enqueue it."""
    now = now or timezone.now()
    fired = []
    for periodic in SCHEDULE:
        with transaction.atomic():
            if _due(periodic, now):
                enqueue_once(import_string(periodic.task))
                fired.append(periodic.name)
    return fired
