import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

RESTART_AFTER = 2  # seconds before a worker that died is started again
# Seconds the web server and the worker get to finish after a stop signal before they are
# killed: granian has been seen to stay up after SIGTERM (once, on a busy machine), and a node
# that does not stop holds its port and its database connections.
STOP_GRACE = 30


class Command(BaseCommand):
    help = (
        "Serve GõCửa with granian (static files by WhiteNoise), and run one background worker "
        "beside it (restarted if it dies), so a one-machine installation needs this one "
        "command. --no-worker for a deployment that runs `gocua worker` elsewhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start a background worker (run `gocua worker` apart)",
        )

    def handle(self, *args, host, port, workers, no_worker, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stderr.write(f"GõCửa on http://{host}:{port}/  (Ctrl+C to stop)")
        web = subprocess.Popen(self._granian(host, port, workers))
        worker = None if no_worker else self._worker()
        stopping: float | None = None  # time.monotonic() of the stop signal

        def stop(signum, _frame):
            nonlocal stopping
            stopping = stopping or time.monotonic()
            for child in (web, worker):
                if child is not None and child.poll() is None:
                    child.send_signal(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while True:
            code = web.poll()
            if code is not None:
                if worker is not None and worker.poll() is None:
                    worker.terminate()
                    worker.wait(timeout=30)
                raise SystemExit(code)
            if stopping is not None and time.monotonic() - stopping > STOP_GRACE:
                for child in (web, worker):
                    if child is not None and child.poll() is None:
                        child.kill()
            if worker is not None and worker.poll() is not None and stopping is None:
                # A worker that died (killed, out of memory): its tasks go back to the queue
                # and the new one takes them up.
                self.stderr.write(
                    f"the background worker stopped ({worker.returncode}); restarting"
                )
                time.sleep(RESTART_AFTER)
                worker = self._worker()
            time.sleep(0.5)

    def _worker(self) -> subprocess.Popen:
        gocua = os.path.join(os.path.dirname(sys.executable), "gocua")
        return subprocess.Popen([gocua, "worker"])

    def _granian(self, host: str, port: int, workers: int) -> list[str]:
        # granian, not gunicorn: its HTTP handling is native code, so a phone's visit post
        # costs the worker 2.0 ms of CPU instead of 2.5 (bench/sync.py: 25% more posts/s on
        # two cores). Four threads per worker: one database connection each, so the threads
        # cannot exhaust PostgreSQL's connections.
        granian = os.path.join(os.path.dirname(sys.executable), "granian")
        return [
            granian,
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            "4",
            "--respawn-failed-workers",
            "--access-log",
            # %(path)s is the path without the query string: searches may carry personal data
            # (and the log-record scrubber of gocua.accounts.logs masks the rest).
            "--access-log-fmt",
            '%(addr)s [%(time)s] "%(method)s %(path)s" %(status)d %(dt_ms).0fms',
            "--working-dir",
            str(settings.BASE_DIR),
            "gocua.wsgi:application",
        ]
