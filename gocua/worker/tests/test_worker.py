"""The background worker: a task of a killed worker returns to the queue and finishes once;
periodic jobs run once however many workers; a task is not queued twice. The last test runs
real `gocua worker` processes against the test database and kills one with SIGKILL in the
middle of a web import."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from gocua.worker.models import Schedule, WorkerBeat
from gocua.worker.schedule import SCHEDULE
from gocua.worker.services import enqueue_once, schedules_fire, tasks_recover

DB_QUEUE = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "quick"]}
}


@pytest.fixture
def queue(settings, django_db_blocker):
    """The database queue, empty (a session fixture of other tests may have used it)."""
    settings.TASKS = DB_QUEUE
    with django_db_blocker.unblock():
        DBTaskResult.objects.all().delete()


def _running(worker_id: str, started: dt.datetime) -> DBTaskResult:
    from gocua.reports.tasks import rollup_fold

    result = rollup_fold.enqueue()
    row = DBTaskResult.objects.get(pk=result.id)
    DBTaskResult.objects.filter(pk=row.pk).update(
        status=TaskResultStatus.RUNNING, worker_ids=[worker_id], started_at=started
    )
    return row


def test_a_task_of_a_worker_that_stopped_beating_goes_back_to_the_queue(db, queue, settings):
    now = timezone.now()
    WorkerBeat.objects.create(
        worker_id="alive", host="a", pid=1, started_at=now, beat_at=now - dt.timedelta(seconds=2)
    )
    WorkerBeat.objects.create(
        worker_id="dead", host="b", pid=2, started_at=now, beat_at=now - dt.timedelta(minutes=5)
    )
    long_ago = now - dt.timedelta(minutes=10)
    kept = _running("alive", long_ago)
    lost = _running("dead", long_ago)
    just_started = _running("unknown", now)  # claimed a moment ago: give it time to beat
    assert tasks_recover(now=now) == 1
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == TaskResultStatus.READY
    assert statuses[kept.pk] == statuses[just_started.pk] == TaskResultStatus.RUNNING
    assert tasks_recover(now=now) == 0  # idempotent


def test_periodic_jobs_run_once_however_many_workers_look(db, queue):
    now = timezone.now()
    first = schedules_fire(now=now)
    assert set(first) == {p.name for p in SCHEDULE if p.every is not None}
    assert schedules_fire(now=now) == []  # a second worker, the same moment: nothing
    assert DBTaskResult.objects.count() == len(first)
    nightly = Schedule.objects.get(name="rollup_roll")
    assert timezone.localtime(nightly.next_at).time() == dt.time(0, 5)
    later = schedules_fire(now=nightly.next_at + dt.timedelta(seconds=1))
    assert "rollup_roll" in later


def test_a_task_waiting_in_the_queue_is_not_queued_twice(db, queue):
    from gocua.reports.tasks import rollup_rebuild

    assert enqueue_once(rollup_rebuild) is not None
    assert enqueue_once(rollup_rebuild) is None
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


# --- real worker processes ---------------------------------------------------------------------


def _env(settings) -> dict:
    db = connection.settings_dict
    env = {
        **os.environ,
        "GOCUA_FILES_DIR": str(settings.MEDIA_ROOT),
        "GOCUA_WORKER_DEAD_AFTER": "3",
    }
    if connection.vendor == "sqlite":
        env["GOCUA_SQLITE_PATH"] = db["NAME"]
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


def _worker(env: dict) -> subprocess.Popen:
    gocua = Path(sys.executable).parent / "gocua"
    return subprocess.Popen(
        [str(gocua), "worker", "--interval", "0.2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _all_counted(rollups) -> bool:
    from gocua.changes.models import ChangedResident, PendingResidents

    state = rollups.rollup_state()
    return (
        state is not None
        and state.day == rollups.dates.today()
        and not PendingResidents.objects.exists()
        and not ChangedResident.objects.exists()
    )


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_import_finishes_once_after_a_restart(queue, settings, tmp_path):
    from bench.import_citizens import make_file
    from gocua.accounts.models import User
    from gocua.geo.models import AdminUnit
    from gocua.geo.services import units_load
    from gocua.imports.models import ImportJob
    from gocua.imports.services import import_upload
    from gocua.people.models import Resident
    from gocua.reports import rollups
    from gocua.reports.models import RollupState, UnitDay

    units_load(province_code="72", edition=2023)
    RollupState.objects.all().delete()
    rollups.rollup_maintain()  # a new installation: the rollups are built, empty
    admin = User.objects.create_user(
        "tinh", role="province_admin", unit=AdminUnit.objects.get(edition=2023, code="72")
    )
    rows = 40_000
    make_file(rows, tmp_path / "ds.csv")
    upload = SimpleUploadedFile("ds.csv", (tmp_path / "ds.csv").read_bytes(), "text/csv")
    job = import_upload(user=admin, kind="citizens", upload=upload, dry_run=False)

    env = _env(settings)
    first = _worker(env)
    try:
        _wait(lambda: ImportJob.objects.get(pk=job.pk).resume_line > 0, 90, "a first chunk")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    job.refresh_from_db()
    assert job.status == "running" and 0 < job.rows < rows  # stopped in the middle
    task = DBTaskResult.objects.get(task_path="gocua.imports.tasks.import_run")
    assert task.status == TaskResultStatus.RUNNING  # claimed by a worker that is gone

    second = _worker(env)
    try:
        _wait(lambda: ImportJob.objects.get(pk=job.pk).finished, 180, "the job to end")
        # The worker counts what the import recorded in the outbox on its next rounds (reads
        # never fold): wait for it, as a dashboard's "as of" would.
        _wait(lambda: _all_counted(rollups), 60, "the worker to count the import")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    job.refresh_from_db()
    assert job.status == "done", job.message
    # Once: the counts of one clean run, every person once, nothing counted twice.
    assert (job.rows, job.inserted, job.unchanged, job.rejected) == (rows, rows, 0, 0)
    assert Resident.objects.count() == rows
    assert job.upload == ""  # the file is gone with the job
    province = AdminUnit.objects.get(edition=2023, code="72")
    incremental = list(
        UnitDay.objects.filter(unit=province).order_by("day").values_list("day", "st_none")
    )
    rollups.rollup_rebuild()
    rebuilt = list(
        UnitDay.objects.filter(unit=province).order_by("day").values_list("day", "st_none")
    )
    assert incremental == rebuilt and sum(n for _d, n in rebuilt) > 0


def test_a_queue_thread_lives_through_a_database_outage_and_gives_back_its_task(
    transactional_db, queue
):
    """A failover under a worker: its loop ends with a database error; the thread waits,
    reconnects, gives back the task of its queue it was running (it keeps beating, so nobody
    else would) and serves the queue again."""
    import threading

    from django.db import OperationalError

    from gocua.worker.management.commands.worker import serve_through_outages

    now = timezone.now()
    lost = _running("w1", now)
    DBTaskResult.objects.filter(pk=lost.pk).update(queue_name="quick")
    other_queue = _running("w1", now)  # the 'default' thread's task: still running
    DBTaskResult.objects.filter(pk=other_queue.pk).update(queue_name="default")
    other_worker = _running("w2", now)

    class Worker:
        runs = 0

        def run(self) -> None:
            self.runs += 1
            if self.runs == 1:
                raise OperationalError("server closed the connection unexpectedly")

    worker = Worker()
    serve_through_outages(worker, worker_id="w1", queue="quick", stop=threading.Event())
    assert worker.runs == 2
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == TaskResultStatus.READY
    assert statuses[other_queue.pk] == TaskResultStatus.RUNNING
    assert statuses[other_worker.pk] == TaskResultStatus.RUNNING
