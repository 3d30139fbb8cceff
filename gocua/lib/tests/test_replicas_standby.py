"""The lag query against a real streaming standby: a throw-away primary and a standby made from
it with pg_basebackup -R (initdb and pg_ctl as the `postgres` user, spare ports, a temporary
folder). The standby's lag is a number while it streams, for a role without pg_read_all_stats
too, and it is no longer taken once its primary is gone. PostgreSQL only."""

import copy
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.utils import load_backend

from gocua.lib import replicas
from gocua.lib.clusters import Server, eventually, owned_folder

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a standby is PostgreSQL's streaming replication"
)

# Small servers that tell their primary where they stand every second.
SETTINGS = {"fsync": "off", "shared_buffers": "16MB", "wal_receiver_status_interval": "1s"}


@pytest.fixture
def servers():
    folder = owned_folder(Path(tempfile.mkdtemp(prefix="gocua-standby-")))
    primary, standby = Server(folder, "primary"), Server(folder, "standby")
    try:
        primary.initdb(**SETTINGS)
        primary.start()
        standby.standby_of(primary, **SETTINGS)
        standby.start()
        yield primary, standby
    finally:
        standby.stop("immediate")
        primary.stop("immediate")
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


def lag_soon(check: Callable[[], Any]) -> Any:
    """`check` polled until true (replay and the WAL receiver's end take a moment on a busy
    machine; the reader's connection fails until its role is replayed)."""
    return eventually(check, errors=(DatabaseError,))


def test_a_streaming_standby_has_a_lag_and_one_cut_off_has_none(servers, django_db_blocker):
    primary, standby = servers
    primary.sql("CREATE ROLE reader LOGIN")  # no pg_read_all_stats: sees no receiver status
    for user in ("postgres", "reader"):
        lag = lag_soon(lambda user=user: [lag_of(standby, user, django_db_blocker)])[0]
        assert lag is not None and 0 <= lag < 60
    # Replay paused, a transaction received but not replayed: the lag is the age of the last
    # transaction replayed, more than nothing.
    primary.sql("CREATE TABLE t AS SELECT 1 AS n")
    assert eventually(lambda: standby.value("SELECT count(*) FROM pg_class WHERE relname = 't'"))
    standby.sql("SELECT pg_wal_replay_pause()")
    primary.sql("INSERT INTO t VALUES (2)")
    assert lag_soon(lambda: (lag_of(standby, "postgres", django_db_blocker) or 0) > 0)
    standby.sql("SELECT pg_wal_replay_resume()")
    assert lag_soon(lambda: lag_of(standby, "postgres", django_db_blocker) == 0)
    primary.stop("immediate")
    # The standby's WAL receiver sees its primary gone and stops: stale, not taken.
    assert lag_soon(lambda: lag_of(standby, "postgres", django_db_blocker) is None)
    assert lag_of(standby, "reader", django_db_blocker) is None
