import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve GõCửa with gunicorn (static files by WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, host, port, workers, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stderr.write(f"GõCửa on http://{host}:{port}/  (Ctrl+C to stop)")
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        os.execv(
            gunicorn,
            [
                gunicorn,
                "gocua.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(workers),
                "--threads",
                "4",
                "--access-logfile",
                "-",
                # %(U)s is the path without the query string: searches may carry personal data.
                "--access-logformat",
                '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
                "--chdir",
                str(settings.BASE_DIR),
            ],
        )
