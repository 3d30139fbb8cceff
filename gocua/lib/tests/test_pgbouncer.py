"""GOCUA_DB_POOLER=transaction: GõCửa behind Debian's pgbouncer in transaction pooling mode.

pgbouncer runs on a spare port as the `postgres` user, in front of the test database, with two
server connections for every client: consecutive transactions of one client land on whichever
server connection is free. Real app paths run through it in separate processes at the same
time: a rollup rebuild, a citizens import (its COPY staging table, its rejects CSV read with
`.iterator()`, its fold), and two "phones" posting visit batches through the API, reading the
audit CSV and folding (with server-side cursors, the audit CSV's cursor held over from one
transaction is not found in the next: InvalidCursorName). Without the setting the second process
meets the statements the first left prepared on the shared server connections. PostgreSQL only."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum

from gocua.campaigns.tests.conftest import campaign  # noqa: F401
from gocua.fieldwork.models import Visit
from gocua.fieldwork.tests.conftest import visit
from gocua.imports.tests.conftest import AN, BINH, CUONG, EN
from gocua.lib.clusters import as_postgres, eventually, owned_file, owned_folder, spare_port
from gocua.people.models import Resident
from gocua.reports.models import MemberDay

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pgbouncer pools PostgreSQL connections"
)

ROOT = Path(__file__).resolve().parents[3]
BATCHES = 6  # five runs of a statement make psycopg prepare it (settings: prepare_threshold=5)

# One node of the app: visit batches through the API with a phone's token, the audit CSV
# (streamed with `.iterator()`) through the web with a session, then a fold of the rollups.
NODE = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from gocua.accounts.models import User

work = json.loads(sys.argv[1])
phone = Client()
for batch in work["batches"]:
    answer = phone.post("/api/v1/visits/sync", json.dumps({"visits": batch}),
                        content_type="application/json",
                        HTTP_AUTHORIZATION="Bearer " + work["token"])
    assert answer.status_code == 200, answer.content
    assert {r["status"] for r in answer.json()["results"]} == {"created"}, answer.content
web = Client()
web.force_login(User.objects.get(username=work["admin"]))
for _ in range(2):
    answer = web.get("/accounts/audit/export.csv")
    assert answer.status_code == 200, answer.status_code
    assert b"".join(answer.streaming_content).count(b"\\n") > 1
call_command("rollup", "fold")
"""


class Pgbouncer:
    """pgbouncer in transaction mode on a spare port, in a temporary folder it owns."""

    def __init__(self):
        # The folder must be the `postgres` user's (pgbouncer refuses to run as root), outside
        # pytest's root-only tmp_path.
        self.folder = owned_folder(Path(tempfile.mkdtemp(prefix="gocua-pgbouncer-")))
        self.port = spare_port()
        server = connection.settings_dict
        owned_file(self.folder / "users.txt", '"postgres" ""\n')
        owned_file(
            self.folder / "pgbouncer.ini",
            "[databases]\n"
            f"* = host={server['HOST'] or '127.0.0.1'} port={server['PORT'] or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder / 'users.txt'}\n"
            "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 50\n"
            f"logfile = {self.folder / 'log.txt'}\npidfile = {self.folder / 'pid'}\n",
        )

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        assert Path(binary).exists(), "pgbouncer is not installed: `make pgbouncer`"
        as_postgres(binary, "-d", str(self.folder / "pgbouncer.ini"), timeout=30)

        def listening() -> bool:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True

        try:
            eventually(listening, within=10, every=0.05)
        except OSError:
            pytest.fail((self.folder / "log.txt").read_text())

    def stop(self) -> None:
        """Ends pgbouncer and waits for it: its server connections to the test database must
        be gone before pytest-django drops that database."""
        pidfile = self.folder / "pid"
        if pidfile.exists():
            pid = int(pidfile.read_text())
            os.kill(pid, signal.SIGTERM)
            eventually(lambda: not Path(f"/proc/{pid}").exists(), within=10, every=0.05)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def pgbouncer():
    bouncer = Pgbouncer()
    bouncer.start()
    yield bouncer
    bouncer.stop()


@pytest.fixture
def fieldwork(transactional_db, vy, alice, campaign, token_for, tree, resident_factory):  # noqa: F811
    """Two households of Vy's hamlet, committed (the other processes must see them), her token,
    and batches of visits to post: each process its own."""
    from gocua.campaigns.tests.factories import make_household

    homes = [make_household(tree.kp1, address=f"{n} Hẻm 3") for n in (12, 14)]
    people = [resident_factory(tree.kp1, household=home) for home in homes]

    def batches() -> list[list[dict]]:
        return [
            [visit(homes[0], (people[0], "refused")), visit(homes[1], (people[1], "not_home"))]
            for _ in range(BATCHES)
        ]

    return {"token": token_for(vy), "admin": alice.username, "batches": batches}


def gocua(url: str, pooler: str, *args: str) -> subprocess.Popen:
    """A `gocua` command (or, with "-node", the NODE script) on its own connection to `url`."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GOCUA_DB_POOLER": pooler,
        "GOCUA_SECRET_KEY": settings.SECRET_KEY,  # the tokens are keyed with it
        "GOCUA_ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "gocua.settings",
        "PYTHONPATH": str(ROOT),
    }
    if args[0] == "-node":
        command = [sys.executable, "-c", NODE, *args[1:]]
    else:
        command = [sys.executable, "-c", "from gocua.cli import main; main()", *args]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: subprocess.Popen) -> tuple[int, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


def test_the_app_runs_behind_pgbouncer_in_transaction_mode(pgbouncer, fieldwork, tmp_path):
    url = pgbouncer.url(connection.settings_dict["NAME"])
    code, output = finished(gocua(url, "transaction", "rollup", "rebuild"))
    assert code == 0, output
    people = tmp_path / "people.csv"
    bad = [*CUONG[:2], "31/02/2000", *CUONG[3:]]
    people.write_text("\n".join(",".join(row) for row in (EN, AN, BINH, bad)) + "\n")
    rejects = tmp_path / "rejects.csv"
    running = [
        gocua(url, "transaction", "import", "citizens", str(people), "--rejects", str(rejects)),
        *(
            gocua(url, "transaction", "-node", json.dumps({**fieldwork, "batches": batches}))
            for batches in (fieldwork["batches"](), fieldwork["batches"]())
        ),
    ]
    for process in running:
        code, output = finished(process)
        assert code == 0, output

    assert Resident.objects.filter(national_id__in=[AN[0], BINH[0]]).count() == 2
    assert rejects.read_text().count("\n") == 2  # the header and the impossible birth date
    sent = 2 * BATCHES * 2
    assert Visit.objects.count() == sent
    # Every visit folded into the rollups once, by the folds that ran through pgbouncer.
    assert MemberDay.objects.aggregate(n=Sum("visits"))["n"] == sent


def test_without_the_setting_the_processes_meet_each_others_prepared_statements(
    pgbouncer, fieldwork
):
    url = pgbouncer.url(connection.settings_dict["NAME"])
    answers = [
        finished(gocua(url, "", "-node", json.dumps({**fieldwork, "batches": batches})))
        for batches in (fieldwork["batches"](), fieldwork["batches"]())
    ]
    # The first has the server connections to itself; the second finds its statement names
    # taken (DuplicatePreparedStatement) or someone else's statement under them.
    assert answers[0][0] == 0, answers[0][1]
    assert answers[1][0] != 0 and "prepared statement" in answers[1][1], answers[1][1]
