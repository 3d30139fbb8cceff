"""`gocua serve` stops when told to, even if its web server does not: after STOP_GRACE seconds
it kills what is left, so a node being stopped never keeps its port and connections."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# The serve command with a web server that ignores SIGTERM (as granian once did on a busy
# machine) and a grace of one second.
SCRIPT = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from gocua.api.management.commands import serve
    serve.STOP_GRACE = 1
    stubborn = [sys.executable, "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('up', flush=True); time.sleep(600)"]
    serve.Command._granian = lambda self, host, port, workers: stubborn
    serve.Command().handle(host="127.0.0.1", port=0, workers=1, no_worker=True)
    """
)


def test_a_web_server_that_ignores_the_stop_signal_is_killed_after_the_grace(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOCUA_", "DATABASE_"))}
    env.update(
        GOCUA_VAR_DIR=str(tmp_path),
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="gocua.settings",
    )
    node = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert node.stdout is not None and node.stdout.readline().strip() == "up"
        node.send_signal(signal.SIGTERM)
        started = time.monotonic()
        node.wait(timeout=30)
        assert time.monotonic() - started >= 1  # the web server had its grace
    finally:
        if node.poll() is None:
            node.kill()
