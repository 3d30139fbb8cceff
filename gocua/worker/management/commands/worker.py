import logging
import os
import socket
import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from gocua.worker.services import (
    BEAT_EVERY,
    schedules_fire,
    tasks_give_back,
    tasks_recover,
    worker_beat,
    worker_gone,
)

log = logging.getLogger("gocua.worker")
QUEUES = "default,quick"
RECONNECT_EVERY = 1.0  # seconds between tries while the database is unreachable


def serve_through_outages(
    worker: Worker, *, worker_id: str, queue: str, stop: threading.Event
) -> None:
    """Run the queue's worker loop until the worker is told to stop, through database outages.

    django-tasks-db's loop ends on any database error but a lock: a primary that crashed or
    was switched over would end the thread (the process living on, beating, and serving that
    queue no more) or the whole worker. Here the thread waits, reconnects (libpq's host list
    finds the new primary) and gives back the task it was running, which every task of
    GõCửa is written to run again."""
    while not stop.is_set():
        try:
            worker.run()
            return  # a signal asked the worker to stop
        except DatabaseError:
            log.warning("queue %s: the database is unreachable; trying again", queue)
        while not stop.wait(RECONNECT_EVERY):
            connections.close_all()
            try:
                given = tasks_give_back(worker_id=worker_id, queue=queue)
            except DatabaseError:
                continue
            if given:
                log.warning("queue %s: gave back %d interrupted task(s)", queue, given)
            break


class Command(BaseCommand):
    help = (
        "Run the background worker: imports started in the web, rollup rebuilds and the "
        "counting of visits, the nightly roll (scheduled by the worker itself, no cron). One "
        "thread per queue ('default' for long jobs, 'quick' for the rollups' "
        "upkeep). Run as many workers as you like, on any machine that reaches the database: "
        "each task runs once, and the tasks of a worker that was killed return to the queue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queues", default=QUEUES, help=f"queues to serve, comma-separated ({QUEUES})"
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between looks at an empty queue"
        )

    def handle(self, *args, queues: str, interval: float, **options):
        worker_id = f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(6)}"
        started_at = timezone.now()
        stop = threading.Event()
        names = [q.strip() for q in queues.split(",") if q.strip()]

        def make(queue: str) -> Worker:
            return Worker(
                queue_names=[queue],
                interval=interval,
                batch=False,
                backend_name="default",
                startup_delay=True,
                max_tasks=None,
                worker_id=worker_id,
                excluded_queue_names=[],
            )

        def housekeeping() -> None:
            while not stop.is_set():
                try:
                    close_old_connections()
                    worker_beat(worker_id=worker_id, started_at=started_at)
                    recovered = tasks_recover()
                    if recovered:
                        log.warning(
                            "gave %d task(s) of a stopped worker back to the queue", recovered
                        )
                    schedules_fire()
                except Exception:  # the database may be down for a while: try again later
                    log.exception("worker housekeeping failed; trying again")
                stop.wait(BEAT_EVERY)
            connections.close_all()

        def serve(worker: Worker, queue: str) -> None:
            try:
                serve_through_outages(worker, worker_id=worker_id, queue=queue, stop=stop)
            finally:
                connections.close_all()

        # Beat once before taking any task: a task claimed now belongs to a live worker.
        worker_beat(worker_id=worker_id, started_at=started_at)
        threading.Thread(target=housekeeping, name="gocua-housekeeping", daemon=True).start()
        for queue in names[1:]:
            threading.Thread(
                target=serve, args=(make(queue), queue), name=f"gocua-{queue}", daemon=True
            ).start()
        self.stderr.write(f"GõCửa worker {worker_id}: queues {', '.join(names)}")
        main = make(names[0])
        main.configure_signals()
        try:
            serve_through_outages(main, worker_id=worker_id, queue=names[0], stop=stop)
        finally:
            stop.set()
            try:
                worker_gone(worker_id=worker_id)
            except Exception:  # noqa: BLE001 - the beat then simply expires
                log.warning("could not say goodbye; the beat will expire")
