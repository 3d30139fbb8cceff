"""`gocua backup` and `gocua restore`: what they do to the database the installation uses, each
said in one line and written in the audit log.

SQLite (the embedded database) is copied online and put back by these commands. PostgreSQL is
backed up continuously by pgBackRest (WAL archiving, point-in-time restores): the commands only
say so, since a copy of one moment would be a weaker backup than the one already running.
"""

import time
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from gocua.accounts.services import audit_record
from gocua.backups import sqlite
from gocua.backups.sqlite import BackupError

POSTGRESQL_BACKUPS = (
    "PostgreSQL is backed up by pgBackRest (WAL archiving, point-in-time restores), not by "
    "gocua: see docs/backups.md"
)


def backup_database(path: Path) -> str:
    """Copy the running installation's database to the new file `path` (the server and the
    worker may go on writing), check the copy, record it, and say what was done."""
    database = _sqlite_database()
    started = time.monotonic()
    size = sqlite.copy_online(database, path)
    seconds = round(time.monotonic() - started, 1)
    audit_record(
        user=None,
        action="backup",
        object_type="database",
        object_id=path.name,
        unit=None,
        detail={"path": str(path.resolve()), "bytes": size, "seconds": seconds},
        command_line=True,
    )
    return f"backed up {database} to {path} ({size / 1e6:,.1f} MB, integrity checked, {seconds} s)"


def restore_database(path: Path, *, force: bool = False) -> str:
    """Replace the installation's database with the backup at `path`, keeping the replaced file
    beside it. Refused while the database is open elsewhere (the server, a worker), unless
    `force`, and for a file that is not a GõCửa database this version can run."""
    database = _sqlite_database()
    applied = sqlite.applied_migrations(path)
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    ours = {config.label for config in apps.get_app_configs() if config.name.startswith("gocua.")}
    sqlite.check_compatible(path, applied, known=known, ours=ours)
    # This process's own connection would count as a user of the file, and must reopen the
    # restored one afterwards.
    connection.close()
    busy = sqlite.in_use(database)
    if busy and not force:
        raise BackupError(
            f"{database} is in use (the server, a worker or a shell has it open): stop them, "
            "or restore with --force"
        )
    aside = sqlite.put_in_place(path, database)
    behind = known - applied
    if behind:
        call_command("migrate", interactive=False, verbosity=0)
    audit_record(
        user=None,
        action="restore",
        object_type="database",
        object_id=path.name,
        unit=None,
        detail={
            "path": str(path.resolve()),
            "replaced": str(aside) if aside else "",
            "migrations_applied": len(behind),
            "forced_while_in_use": busy,
        },
        command_line=True,
    )
    return _restored_line(database, path, aside, migrated=len(behind), busy=busy)


def _sqlite_database() -> Path:
    if connection.vendor != "sqlite":
        raise BackupError(POSTGRESQL_BACKUPS)
    return Path(connection.settings_dict["NAME"])


def _restored_line(
    database: Path, path: Path, aside: Path | None, *, migrated: int, busy: bool
) -> str:
    line = f"restored {database} from {path}"
    line += f"; the replaced database is kept at {aside}" if aside else " (none was there before)"
    if migrated:
        line += f"; {migrated} newer migrations applied"
    if busy:
        line += "; processes that had it open still use the kept file: restart them"
    return line
