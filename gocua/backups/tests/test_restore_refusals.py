"""What a restore refuses, each said in one line: no file, a file that is not a database, a
database that is not GõCửa's, one a newer GõCửa migrated, a database in use. These read and
write files only, so they run the same whatever database the suite runs on."""

import sqlite3
from contextlib import closing

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

from gocua.backups import sqlite
from gocua.backups.sqlite import BackupError


@pytest.fixture(scope="module")
def known():
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


@pytest.fixture(scope="module")
def ours():
    return {c.label for c in apps.get_app_configs() if c.name.startswith("gocua.")}


def gocua_file(path, migrations, rows=3):
    """A small database recording `migrations` as applied, with a table of `rows` rows."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app, name, applied)")
        conn.executemany(
            "INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, '2026-12-01')",
            sorted(migrations),
        )
        conn.execute("CREATE TABLE kept (n INTEGER)")
        conn.executemany("INSERT INTO kept VALUES (?)", [(n,) for n in range(rows)])
        conn.commit()
    return path


def refusal(path, known, ours):
    with pytest.raises(BackupError) as excinfo:
        sqlite.check_compatible(path, sqlite.applied_migrations(path), known=known, ours=ours)
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_a_missing_file_is_refused(tmp_path, known, ours):
    assert (
        refusal(tmp_path / "nope.sqlite3", known, ours) == f"no backup at {tmp_path}/nope.sqlite3"
    )


def test_a_file_that_is_not_a_database_is_refused(tmp_path, known, ours):
    path = tmp_path / "notes.sqlite3"
    path.write_text("danh sách hộ, không phải cơ sở dữ liệu\n")
    assert refusal(path, known, ours) == f"{path} is not a SQLite database"


def test_a_database_of_another_program_is_refused(tmp_path, known, ours):
    path = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert refusal(path, known, ours).startswith(f"{path} is not a GõCửa database")
    path = gocua_file(tmp_path / "django.sqlite3", {("auth", "0001_initial")})
    assert refusal(path, known, ours) == (
        f"{path} is a SQLite database but not GõCửa's (no GõCửa migrations)"
    )


def test_a_database_from_a_newer_gocua_is_refused(tmp_path, known, ours):
    path = gocua_file(tmp_path / "newer.sqlite3", known | {("people", "9999_from_the_future")})
    assert refusal(path, known, ours) == (
        f"{path} comes from a newer GõCửa (1 migration unknown here, e.g. "
        "people.9999_from_the_future): upgrade GõCửa before restoring it"
    )


def test_an_older_or_equal_database_is_accepted(tmp_path, known, ours):
    for name, migrations in (("same", known), ("older", known - {max(known)})):
        path = gocua_file(tmp_path / f"{name}.sqlite3", migrations)
        applied = sqlite.applied_migrations(path)
        assert applied == migrations
        sqlite.check_compatible(path, applied, known=known, ours=ours)


def test_a_database_in_use_is_seen_and_the_replaced_one_is_kept(tmp_path, known):
    backup = gocua_file(tmp_path / "backup.sqlite3", known, rows=5)
    target = gocua_file(tmp_path / "gocua.sqlite3", known, rows=2)
    server = sqlite3.connect(target)
    server.execute("PRAGMA journal_mode=WAL")
    server.execute("SELECT count(*) FROM kept").fetchone()
    try:
        assert sqlite.in_use(target)
    finally:
        server.close()
    assert not sqlite.in_use(target)
    assert not sqlite.in_use(tmp_path / "none-yet.sqlite3")

    aside = sqlite.put_in_place(backup, target)
    assert aside.name.startswith("gocua.sqlite3.replaced-")
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (5,)
    with closing(sqlite3.connect(aside)) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (2,)
    assert sqlite.put_in_place(backup, tmp_path / "fresh.sqlite3") is None


def test_a_backup_never_overwrites_a_file(tmp_path, known):
    source = gocua_file(tmp_path / "gocua.sqlite3", known)
    existing = tmp_path / "monday.sqlite3"
    existing.write_bytes(b"yesterday's backup")
    with pytest.raises(BackupError) as excinfo:
        sqlite.copy_online(source, existing)
    assert str(excinfo.value) == (
        f"{existing} exists: a backup never overwrites a file, give a new name"
    )
    assert existing.read_bytes() == b"yesterday's backup"
    with pytest.raises(BackupError, match=f"^no database at {tmp_path}/absent.sqlite3$"):
        sqlite.copy_online(tmp_path / "absent.sqlite3", tmp_path / "copy.sqlite3")
