"""The embedded SQLite database's backups, as plain functions over files.

The copy uses SQLite's online backup API in one step: a single read transaction, so the copy is
the database as it stood at one commit, while the server and the worker go on writing (WAL mode
lets a reader and writers work together). Every problem is a `BackupError` whose message is one
line an operator can act on.
"""

import datetime as dt
import os
import sqlite3
from contextlib import closing
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
# The companions of a database in WAL mode: committed pages not yet folded into the file, and
# the readers' shared index. They move with the file they belong to.
COMPANIONS = ("-wal", "-shm")


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why in one line."""


def copy_online(source: Path, target: Path) -> int:
    """Copy the database at `source` into a new file `target` while others write to it, check
    the copy's integrity and return its size in bytes. The copy is one self-contained file (no
    WAL beside it), written under a temporary name and renamed only once checked."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if target.exists():
        raise BackupError(f"{target} exists: a backup never overwrites a file, give a new name")
    partial = target.with_name(target.name + ".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove(partial)
        with closing(sqlite3.connect(source, timeout=30)) as src:
            with closing(sqlite3.connect(partial)) as dst:
                # pages=-1: the whole database in one step, so one snapshot; a copy in steps
                # would start again after every write of another connection and might never end.
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=DELETE")
        problem = integrity_problem(partial)
        if problem:
            raise BackupError(f"the copy of {source} failed its integrity check: {problem}")
        _fsync(partial)
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:  # a full disk, a folder it may not write in
        raise BackupError(f"cannot copy {source} to {target}: {exc}") from None
    finally:
        _remove(partial)
    return target.stat().st_size


def integrity_problem(path: Path) -> str | None:
    """The first line of `PRAGMA integrity_check` when the file is damaged, None when sound."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return None if rows == [("ok",)] else str(rows[0][0])


def applied_migrations(path: Path) -> set[tuple[str, str]]:
    """The (app, migration) pairs recorded in the database file at `path`, after checking it is
    a sound SQLite database; a file that is missing, not a database or damaged is refused."""
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database")
    try:
        problem = integrity_problem(path)
        if problem:
            raise BackupError(f"{path} is damaged (integrity check: {problem})")
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a GõCửa database ({exc})") from None
    return {(app, name) for app, name in rows}


def check_compatible(
    path: Path, applied: set[tuple[str, str]], *, known: set[tuple[str, str]], ours: set[str]
) -> None:
    """Refuse a database that is not GõCửa's (none of `ours`, its apps, among the migrations
    it recorded) or that a newer GõCửa migrated (migrations this one does not `know`). An
    older one is fine: restoring it applies the migrations it lacks."""
    if not any(app in ours for app, _name in applied):
        raise BackupError(f"{path} is a SQLite database but not GõCửa's (no GõCửa migrations)")
    newer = sorted(applied - known)
    if newer:
        app, name = newer[0]
        count = f"{len(newer)} migration{'s' if len(newer) > 1 else ''}"
        raise BackupError(
            f"{path} comes from a newer GõCửa ({count} unknown here, e.g. {app}.{name}): "
            "upgrade GõCửa before restoring it"
        )


def in_use(path: Path) -> bool:
    """Whether another connection (the server, a worker, a shell) has the database open.

    In WAL mode every open connection keeps a shared lock on the file; a connection asking for
    the exclusive locking mode gets its lock only when no other connection exists."""
    if not path.exists():
        return False
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()
    return False


def put_in_place(backup: Path, target: Path) -> Path | None:
    """Make `target` a copy of `backup`; the database it replaces (with its WAL, which may hold
    its last commits) is renamed beside it, never deleted. Returns that name, or None when
    there was no database at `target`."""
    incoming = target.with_name(target.name + ".restoring")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove(incoming)
        with closing(sqlite3.connect(backup)) as src:
            with closing(sqlite3.connect(incoming)) as dst:
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=WAL")
        _fsync(incoming)
    except (sqlite3.Error, OSError) as exc:
        _remove(incoming)
        raise BackupError(f"cannot copy {backup} to {target}: {exc}") from None
    aside = None
    if target.exists():
        stamp = dt.datetime.now().astimezone().strftime("%Y%m%d-%H%M%S")
        aside = target.with_name(f"{target.name}.replaced-{stamp}")
        for suffix in ("", *COMPANIONS):
            if Path(f"{target}{suffix}").exists():
                os.replace(f"{target}{suffix}", f"{aside}{suffix}")
    os.replace(incoming, target)
    return aside


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for suffix in ("", "-journal", *COMPANIONS):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
