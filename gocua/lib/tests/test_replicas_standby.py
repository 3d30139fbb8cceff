"""The lag query against a real streaming standby: a throw-away primary and a standby made from
it with pg_basebackup -R (initdb and pg_ctl as the `postgres` user, spare ports, a temporary
folder). The standby's lag is a number while it streams, for a role without pg_read_all_stats
too, and it is no longer taken once its primary is gone. PostgreSQL only."""

import copy
import getpass
import glob
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.utils import load_backend

from gocua.lib import replicas

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a standby is PostgreSQL's streaming replication"
)


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One PostgreSQL server in `folder`, run as the `postgres` user."""

    bin = Path(
        sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))[-1]
    )

    def __init__(self, folder: Path):
        self.folder, self.port, self.running = folder, _spare_port(), False

    @staticmethod
    def run(*command: str) -> None:
        as_postgres = [] if getpass.getuser() == "postgres" else ["runuser", "-u", "postgres", "--"]
        done = subprocess.run([*as_postgres, *command], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{command[0]} failed: {done.stderr or done.stdout}"

    def configure(self) -> None:
        with (self.folder / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.folder}'\nfsync = off\nshared_buffers = 16MB\n"
                "wal_receiver_status_interval = 1s\n"
            )

    def start(self) -> None:
        log = str(self.folder.parent / f"{self.folder.name}.log")
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.folder), "-l", log, "-w", "start")
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.folder), "-m", "immediate", "stop")
            self.running = False

    def sql(self, statement: str) -> None:
        self.answer(statement)

    def answer(self, statement: str) -> object:
        url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(statement)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None


@pytest.fixture
def servers():
    folder = Path(tempfile.mkdtemp(prefix="gocua-standby-"))
    shutil.chown(folder, "postgres", "postgres")
    primary, standby = Server(folder / "primary"), Server(folder / "standby")
    try:
        Server.run(str(Server.bin / "initdb"), "-D", str(primary.folder), "-U", "postgres",
                   "--auth=trust", "--no-sync")  # fmt: skip
        primary.configure()
        primary.start()
        Server.run(str(Server.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                   "-U", "postgres", "-D", str(standby.folder), "-R", "-X", "stream", "--no-sync")  # fmt: skip
        standby.configure()  # its own port; primary_conninfo (-R) points at the primary
        standby.start()
        yield primary, standby
    finally:
        standby.stop()
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)


def lag_of(standby: Server, user: str, django_db_blocker) -> float | None:
    alias = f"standby_{user}"
    settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    settings_dict.update(HOST="127.0.0.1", PORT=standby.port, NAME="postgres", USER=user)
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    connections[alias] = wrapper
    try:
        with django_db_blocker.unblock():
            return replicas.replica_lag(alias)
    finally:
        wrapper.close()
        del connections[alias]


def eventually(check, tries: int = 200):
    """The first true answer of `check`, polled for up to about 20 s (replay and the WAL
    receiver's end take a moment on a busy machine)."""
    for _ in range(tries):
        try:
            answer = check()
        except Exception:  # the role not replayed yet
            answer = None
        if answer:
            return answer
        time.sleep(0.1)
    return check()


def test_a_streaming_standby_has_a_lag_and_one_cut_off_has_none(servers, django_db_blocker):
    primary, standby = servers
    primary.sql("CREATE ROLE reader LOGIN")  # no pg_read_all_stats: sees no receiver status
    for user in ("postgres", "reader"):
        lag = eventually(lambda user=user: [lag_of(standby, user, django_db_blocker)])[0]
        assert lag is not None and 0 <= lag < 60
    # Replay paused, a transaction received but not replayed: the lag is the age of the last
    # transaction replayed, more than nothing.
    primary.sql("CREATE TABLE t AS SELECT 1 AS n")
    assert eventually(lambda: standby.answer("SELECT count(*) FROM pg_class WHERE relname = 't'"))
    standby.sql("SELECT pg_wal_replay_pause()")
    primary.sql("INSERT INTO t VALUES (2)")
    assert eventually(lambda: (lag_of(standby, "postgres", django_db_blocker) or 0) > 0)
    standby.sql("SELECT pg_wal_replay_resume()")
    assert eventually(lambda: lag_of(standby, "postgres", django_db_blocker) == 0)
    primary.stop()
    # The standby's WAL receiver sees its primary gone and stops: stale, not taken.
    assert eventually(lambda: lag_of(standby, "postgres", django_db_blocker) is None)
    assert lag_of(standby, "reader", django_db_blocker) is None
