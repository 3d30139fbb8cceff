"""`gocua backup` and `gocua restore` on the embedded database: a copy taken while visits are
being written is one commit's state, whole, and restores into a fresh file as it was.

SQLite only: on PostgreSQL the commands hand over to pgBackRest (test_postgresql.py)."""

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from gocua.accounts.models import AuditEntry
from gocua.backups import sqlite
from gocua.campaigns.tests.factories import make_household
from gocua.fieldwork.models import Visit, VisitOutcome

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the embedded SQLite database's backups; PostgreSQL's are pgBackRest's",
)

OUTCOMES = 3  # every visit the writer records has this many outcomes, in one transaction


@pytest.fixture
def live(transactional_db, tmp_path, tree, resident_factory):
    """A running installation's database file: the test database with one household of three
    residents and one visit (the template the writer repeats), in WAL mode. The rows are
    committed: a backup cannot read through a connection that has a transaction open."""
    home = make_household(tree.kp1, address="12 Hẻm 3")
    visit = Visit.objects.create(household=home, at=timezone.now())
    for n, outcome in enumerate(("helped_install", "not_home", "guided_usage")):
        resident = resident_factory(tree.kp1, name=f"Người {n}", household=home)
        VisitOutcome.objects.create(visit=visit, resident=resident, outcome=outcome)
    path = tmp_path / "gocua.sqlite3"
    sqlite.copy_online(Path(connection.settings_dict["NAME"]), path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    return path, visit.id.hex


class VisitWriter(threading.Thread):
    """Records visits as fast as it can, each with its outcomes in one transaction, the way
    the phones' sync does, until told to stop."""

    def __init__(self, path: Path, template: str):
        super().__init__(daemon=True)
        self.path, self.template = path, template
        self.written = 0
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
                visit_cols = _columns(conn, "fieldwork_visit", without=("id",))
                outcome_cols = _columns(conn, "fieldwork_visitoutcome", without=("id", "visit_id"))
                while not self.stop.is_set():
                    new = uuid.uuid4().hex
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(
                        f"INSERT INTO fieldwork_visit (id, {visit_cols}) "
                        f"SELECT ?, {visit_cols} FROM fieldwork_visit WHERE id = ?",
                        (new, self.template),
                    )
                    conn.execute(
                        f"INSERT INTO fieldwork_visitoutcome (visit_id, {outcome_cols}) "
                        f"SELECT ?, {outcome_cols} FROM fieldwork_visitoutcome WHERE visit_id = ?",
                        (new, self.template),
                    )
                    conn.execute("COMMIT")
                    self.written += 1
        except BaseException as exc:  # noqa: BLE001 - handed to the test, which fails on it
            self.failure = exc

    def wait_for(self, more: int) -> None:
        goal = self.written + more
        deadline = time.monotonic() + 30
        while self.written < goal and self.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.failure is None, self.failure
        assert self.written >= goal, "the writer stalled"


def _columns(conn, table, without):
    names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    return ", ".join(name for name in names if name not in without)


def visits_and_torn(path: Path) -> tuple[int, int, int]:
    """(visits, outcomes, visits whose outcomes are not all there) in the file at `path`."""
    with closing(sqlite3.connect(path)) as conn:
        (visits,) = conn.execute("SELECT count(*) FROM fieldwork_visit").fetchone()
        (outcomes,) = conn.execute("SELECT count(*) FROM fieldwork_visitoutcome").fetchone()
        (torn,) = conn.execute(
            "SELECT count(*) FROM fieldwork_visit v WHERE (SELECT count(*) FROM "
            "fieldwork_visitoutcome o WHERE o.visit_id = v.id) != ?",
            (OUTCOMES,),
        ).fetchone()
    return visits, outcomes, torn


def test_a_backup_taken_while_visits_are_written_is_one_whole_commit(live, tmp_path):
    path, template = live
    writer = VisitWriter(path, template)
    writer.start()
    try:
        writer.wait_for(20)
        before = visits_and_torn(path)[0]
        sqlite.copy_online(path, tmp_path / "backup.sqlite3")
        after = visits_and_torn(path)[0]
        writer.wait_for(20)  # the writer went on while and after the copy was made
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.failure is None, writer.failure

    copy = tmp_path / "backup.sqlite3"
    assert sqlite.integrity_problem(copy) is None
    assert not Path(f"{copy}-wal").exists()  # one self-contained file
    visits, outcomes, torn = visits_and_torn(copy)
    assert before <= visits <= after
    assert (outcomes, torn) == (visits * OUTCOMES, 0)

    # Restored into a fresh installation by the command, as an operator runs it.
    fresh = tmp_path / "restored" / "gocua.sqlite3"
    done = gocua(fresh, "restore", str(copy))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"restored {fresh} from {copy} (none was there before)\n"
    assert sqlite.integrity_problem(fresh) is None
    assert visits_and_torn(fresh) == (visits, outcomes, 0)
    with closing(sqlite3.connect(fresh)) as conn:
        entries = conn.execute(
            "SELECT username, object_type, object_id FROM accounts_auditentry "
            "WHERE action = 'restore'"
        ).fetchall()
    assert [(name.startswith("cli:"), kind, id_) for name, kind, id_ in entries] == [
        (True, "database", "backup.sqlite3")
    ]


def test_a_restore_over_a_database_in_use_needs_force(live, tmp_path):
    path, _template = live
    backup = tmp_path / "backup.sqlite3"
    sqlite.copy_online(path, backup)
    server = sqlite3.connect(path)
    server.execute("SELECT count(*) FROM fieldwork_visit").fetchone()
    try:
        refused = gocua(path, "restore", str(backup))
        assert (refused.returncode, refused.stdout) == (2, "")
        assert refused.stderr == (
            f"CommandError: {path} is in use (the server, a worker or a shell has it open): "
            "stop them, or restore with --force\n"
        )
        forced = gocua(path, "restore", "--force", str(backup))
    finally:
        server.close()
    assert forced.returncode == 0, forced.stderr
    (aside,) = tmp_path.glob("gocua.sqlite3.replaced-*[0-9]")
    assert forced.stdout == (
        f"restored {path} from {backup}; the replaced database is kept at {aside}; processes "
        "that had it open still use the kept file: restart them\n"
    )
    assert sqlite.integrity_problem(aside) is None


def gocua(database: Path, *args: str) -> subprocess.CompletedProcess:
    """A `gocua` command run as an operator runs it, on the SQLite file `database`."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        GOCUA_SQLITE_PATH=str(database),
        GOCUA_SECRET_KEY="test-only-key",
        PYTHONPATH=str(settings.BASE_DIR),
    )
    return subprocess.run(
        [sys.executable, "-P", "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_backup_command_copies_the_database_says_so_and_audits_it(tmp_path, tree):
    target = tmp_path / "nightly" / "gocua-2026-12-07.sqlite3"
    call_command("backup", str(target), stdout=(out := _Out()))
    database = connection.settings_dict["NAME"]
    assert out.text.startswith(f"backed up {database} to {target} (")
    assert out.text.count("\n") == 1 and "integrity checked" in out.text
    assert sqlite.integrity_problem(target) is None
    entry = AuditEntry.objects.get(action="backup")
    assert (entry.object_type, entry.object_id) == ("database", "gocua-2026-12-07.sqlite3")
    assert entry.username.startswith("cli:") and entry.detail["authority"] == "installation"
    assert entry.detail["bytes"] == target.stat().st_size


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass
