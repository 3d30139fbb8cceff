"""PostgreSQL's backups are pgBackRest's: the commands say so, and a point-in-time restore as
docs/backups.md describes it brings a database back to the moment asked for.

The restore test builds a throw-away cluster (initdb as the `postgres` user, on a spare port, in
a temporary folder) archiving its WAL with pgBackRest, puts GõCửa's units table in it with
Django's migrate, writes, backs up, writes, notes the time, writes again, restores to that time
into a new data folder and counts. PostgreSQL only: the SQLite run has no server to back up."""

import getpass
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gocua.backups.services import POSTGRESQL_BACKUPS

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's backups (pgBackRest); the SQLite run tests `gocua backup` itself",
)

STANZA = "gc"


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_the_commands_hand_postgresql_over_to_pgbackrest(db, tmp_path, command):
    with pytest.raises(CommandError) as excinfo:
        call_command(command, str(tmp_path / "gocua.backup"))
    assert str(excinfo.value) == POSTGRESQL_BACKUPS
    assert "docs/backups.md" in POSTGRESQL_BACKUPS and "\n" not in POSTGRESQL_BACKUPS
    assert not list(tmp_path.iterdir())


class Cluster:
    """A throw-away PostgreSQL cluster archiving its WAL to a pgBackRest repository, all in
    one temporary folder owned by the `postgres` user."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version)[-1])
        with socket.socket() as probe:  # a port nothing listens on now
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.config = folder / "pgbackrest.conf"
        self.running: Path | None = None

    def run(self, *command: str) -> str:
        # initdb, pg_ctl and pgBackRest refuse to run as root: they run as `postgres`.
        as_postgres = [] if getpass.getuser() == "postgres" else ["runuser", "-u", "postgres", "--"]
        done = subprocess.run(
            [*as_postgres, *command], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"{command[0]} failed: {done.stderr or done.stdout}"
        return done.stdout

    def pgbackrest(self, *args: str) -> str:
        return self.run("pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args)

    def create(self) -> None:
        data = self.folder / "data"
        self.run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.write(self.config, _pgbackrest_conf(self.folder, self.port))
        archive = f"pgbackrest --config={self.config} --stanza={STANZA} archive-push %p"
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.folder}'\n"
                f"wal_level = replica\narchive_mode = on\narchive_command = '{archive}'\n"
                # A test cluster: no fsync (nothing here must survive a power cut).
                "fsync = off\nshared_buffers = 16MB\n"
            )
        self.start(data)
        self.pgbackrest("stanza-create")

    def write(self, path: Path, text: str) -> None:
        path.write_text(text)
        shutil.chown(path, "postgres", "postgres")

    def start(self, data: Path) -> None:
        self.run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.folder / "log.txt"),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.running = data

    def stop(self) -> None:
        if self.running is not None:
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.running), "-m", "immediate", "stop")
            self.running = None

    def sql(self, statement: str) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []


def _version(path: str) -> int:
    return int(Path(path).parent.name)


def _pgbackrest_conf(folder: Path, port: int) -> str:
    return (
        f"[global]\nrepo1-path={folder}/repo\nrepo1-retention-full=2\nlog-path={folder}\n"
        f"lock-path={folder}/lock\nlog-level-console=warn\nlog-level-file=off\n"
        "start-fast=y\ncompress-type=none\n"
        f"[{STANZA}]\npg1-path={folder}/data\npg1-port={port}\npg1-socket-path={folder}\n"
    )


def add_hamlets(cluster: Cluster, first: int, last: int) -> None:
    """Hamlets numbered first..last in GõCửa's units table, committed in one transaction."""
    cluster.sql(
        "INSERT INTO geo_adminunit (edition, code, name, kind, level, path, depth, "
        "province_code, name_key) SELECT 2023, 'kp-' || n, 'Khu phố ' || n, 'Khu phố', "
        f"'hamlet', 'kp-' || n || '/', 0, '72', 'khu pho ' || n FROM generate_series({first}, "
        f"{last}) AS n"
    )


def hamlets(cluster: Cluster) -> int:
    return cluster.sql("SELECT count(*) FROM geo_adminunit")[0][0]


def migrate_units(cluster: Cluster) -> None:
    """GõCửa's units table, made by Django's migrate as on an installation."""
    env = {**os.environ, "DATABASE_URL": cluster.url, "GOCUA_SECRET_KEY": "test-only-key"}
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    done = subprocess.run(
        [sys.executable, "-P", "manage.py", "migrate", "geo", "--no-input", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_a_point_in_time_restore_brings_back_the_rows_of_that_moment():
    assert shutil.which("pgbackrest"), "pgBackRest is not installed: run `make pgbackrest`"
    folder = Path(tempfile.mkdtemp(prefix="gocua-pitr-"))
    shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(folder)
    try:
        cluster.create()
        migrate_units(cluster)
        add_hamlets(cluster, 1, 10)
        cluster.pgbackrest("--type=full", "backup")
        # pgBackRest keeps a backup's stop time in whole seconds and restores from a set that
        # stopped before the target: a target in the same second as the backup finds none.
        time.sleep(1.1)
        add_hamlets(cluster, 11, 15)
        (moment,) = cluster.sql(  # in UTC, the form pgBackRest reads
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00')"
        )[0]
        at_that_moment = hamlets(cluster)
        add_hamlets(cluster, 16, 22)
        assert hamlets(cluster) == 22
        cluster.pgbackrest("check")  # the WAL of the last rows is archived too
        cluster.stop()

        restored = folder / "restored"
        cluster.pgbackrest(
            f"--pg1-path={restored}",
            "--type=time",
            f"--target={moment}",
            "--target-action=promote",
            "--archive-mode=off",
            "restore",
        )
        cluster.start(restored)
        _wait_for_promotion(cluster)
        assert (at_that_moment, hamlets(cluster)) == (15, 15)
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _wait_for_promotion(cluster: Cluster) -> None:
    """Recovery replays the archived WAL up to the moment, then the server opens for writes."""
    deadline = time.monotonic() + 30
    while cluster.sql("SELECT pg_is_in_recovery()")[0][0]:
        assert time.monotonic() < deadline, "the restored cluster never finished its recovery"
        time.sleep(0.1)
