import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve GõCửa with granian (static files by WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, host, port, workers, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stderr.write(f"GõCửa on http://{host}:{port}/  (Ctrl+C to stop)")
        # granian, not gunicorn: its HTTP handling is native code, so a phone's visit post
        # costs the worker 2.0 ms of CPU instead of 2.5 (bench/sync.py: 25% more posts/s on
        # two cores). Four threads per worker: one database connection each, so the threads
        # cannot exhaust PostgreSQL's connections.
        granian = os.path.join(os.path.dirname(sys.executable), "granian")
        os.execv(
            granian,
            [
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
                # %(path)s is the path without the query string: searches may carry personal
                # data (and the log-record scrubber of gocua.accounts.logs masks the rest).
                "--access-log-fmt",
                '%(addr)s [%(time)s] "%(method)s %(path)s" %(status)d %(dt_ms).0fms',
                "--working-dir",
                str(settings.BASE_DIR),
                "gocua.wsgi:application",
            ],
        )
