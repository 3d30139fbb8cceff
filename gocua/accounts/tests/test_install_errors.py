"""A configuration the product cannot run with stops `gocua` with one line saying what to set,
never a traceback; `DATABASE_URL=sqlite:///path` (dj-database-url's convention) is taken."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOCUA = str(Path(sys.executable).parent / "gocua")


def gocua(tmp_path, *args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GOCUA_", "DATABASE_"))}
    return subprocess.run(
        [GOCUA, *args],
        env={**base, "GOCUA_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env, says",
    [
        ({"DATABASE_URL": "postgres://u@db/gocua"}, "GOCUA_SECRET_KEY must be set"),
        ({"DATABASE_URL": "mysql://u@db/gocua", "GOCUA_SECRET_KEY": "k"}, "must be postgres://"),
        ({"DATABASE_URL": "sqlite://", "GOCUA_SECRET_KEY": "k"}, "needs a file"),
        ({"GOCUA_HTTPS": "1"}, "GOCUA_TRUSTED_PROXY_COUNT"),
        ({"DATABASE_REPLICA_URL": "postgres://u@standby/gocua"}, "needs PostgreSQL"),
        ({"GOCUA_REPLICA_MAX_LAG": "soon"}, "must be a number of seconds"),
        ({"GOCUA_LOGIN_FAILURE_LIMIT": "many"}, "must be a whole number"),
        (
            {
                "DATABASE_URL": "postgres://u@db/gocua",
                "GOCUA_SECRET_KEY": "k",
                "GOCUA_DB_POOLER": "session",
            },
            "GOCUA_DB_POOLER must be empty",
        ),
        ({"GOCUA_DB_POOLER": "transaction"}, "GOCUA_DB_POOLER=transaction is for PostgreSQL"),
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/x", "GOCUA_SECRET_KEY": "k"},
            "cannot use the database",
        ),
    ],
)
def test_a_bad_configuration_says_what_to_set_in_one_line(tmp_path, env, says):
    result = gocua(tmp_path, "units", "list", **env)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_sqlite_url_is_taken_and_an_empty_database_says_to_migrate(tmp_path):
    url = f"sqlite:///{tmp_path / 'one' / 'gocua.sqlite3'}"
    first = gocua(tmp_path, "units", "list", DATABASE_URL=url)
    assert first.returncode == 2 and "run `gocua migrate`" in first.stderr
    assert "Traceback" not in first.stderr
    assert gocua(tmp_path, "migrate", "-v", "0", DATABASE_URL=url).returncode == 0
    assert (tmp_path / "one" / "gocua.sqlite3").exists()
