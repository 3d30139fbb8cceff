"""PostgreSQL's backups are pgBackRest's: the commands say so, and a point-in-time restore as
docs/backups.md describes it brings a database back to the moment asked for.

The restore test builds a throw-away cluster (initdb as the `postgres` user, on a spare port, in
a temporary folder) archiving its WAL with pgBackRest, puts GõCửa's units table in it with
Django's migrate, writes, backs up, writes, notes the time, writes again, restores to that time
into a new data folder and counts. PostgreSQL only: the SQLite run has no server to back up."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gocua.backups.services import POSTGRESQL_BACKUPS
from gocua.lib.clusters import Server, as_postgres, eventually, owned_file, owned_folder

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


def pgbackrest(folder: Path, *args: str) -> str:
    """A pgBackRest command on the repository in `folder` (as `postgres`, like the server)."""
    config = folder / "pgbackrest.conf"
    return as_postgres("pgbackrest", f"--config={config}", f"--stanza={STANZA}", *args)


def start_archiving(primary: Server) -> None:
    """`primary` made, started and archiving its WAL to a pgBackRest repository in its folder."""
    folder = primary.folder
    owned_file(
        folder / "pgbackrest.conf",
        f"[global]\nrepo1-path={folder}/repo\nrepo1-retention-full=2\nlog-path={folder}\n"
        f"lock-path={folder}/lock\nlog-level-console=warn\nlog-level-file=off\n"
        "start-fast=y\ncompress-type=none\n"
        f"[{STANZA}]\npg1-path={primary.data}\npg1-port={primary.port}\npg1-socket-path={folder}\n",
    )
    archive = f"pgbackrest --config={folder / 'pgbackrest.conf'} --stanza={STANZA} archive-push %p"
    primary.initdb(
        wal_level="replica",
        archive_mode="on",
        archive_command=f"'{archive}'",
        # A test cluster: no fsync (nothing here must survive a power cut).
        fsync="off",
        shared_buffers="16MB",
    )
    primary.start()
    pgbackrest(folder, "stanza-create")


def add_hamlets(cluster: Server, first: int, last: int) -> None:
    """Hamlets numbered first..last in GõCửa's units table, committed in one transaction."""
    cluster.sql(
        "INSERT INTO geo_adminunit (edition, code, name, kind, level, path, depth, "
        "province_code, name_key) SELECT 2023, 'kp-' || n, 'Khu phố ' || n, 'Khu phố', "
        f"'hamlet', 'kp-' || n || '/', 0, '72', 'khu pho ' || n FROM generate_series({first}, "
        f"{last}) AS n"
    )


def hamlets(cluster: Server) -> int:
    return cluster.value("SELECT count(*) FROM geo_adminunit")


def migrate_units(cluster: Server) -> None:
    """GõCửa's units table, made by Django's migrate as on an installation."""
    env = {**os.environ, "DATABASE_URL": cluster.url(), "GOCUA_SECRET_KEY": "test-only-key"}
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
    folder = owned_folder(Path(tempfile.mkdtemp(prefix="gocua-pitr-")))
    cluster, restored = Server(folder, "primary"), Server(folder, "restored")
    try:
        start_archiving(cluster)
        migrate_units(cluster)
        add_hamlets(cluster, 1, 10)
        pgbackrest(folder, "--type=full", "backup")
        # pgBackRest keeps a backup's stop time in whole seconds and restores from a set that
        # stopped before the target: a target in the same second as the backup finds none.
        time.sleep(1.1)
        add_hamlets(cluster, 11, 15)
        moment = cluster.value(  # in UTC, the form pgBackRest reads
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00')"
        )
        at_that_moment = hamlets(cluster)
        add_hamlets(cluster, 16, 22)
        assert hamlets(cluster) == 22
        pgbackrest(folder, "check")  # the WAL of the last rows is archived too
        cluster.stop("immediate")

        pgbackrest(
            folder,
            f"--pg1-path={restored.data}",
            "--type=time",
            f"--target={moment}",
            "--target-action=promote",
            "--archive-mode=off",
            "restore",
        )
        restored.configure()  # its own port: the restore brought the backed-up configuration
        restored.start()
        # Recovery replays the archived WAL up to the moment, then the server opens for writes.
        promoted = eventually(lambda: not restored.value("SELECT pg_is_in_recovery()"))
        assert promoted, "the restored cluster never finished its recovery"
        assert (at_that_moment, hamlets(restored)) == (15, 15)
    finally:
        try:
            cluster.stop("immediate")
            restored.stop("immediate")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
