"""A replicated cluster's URL lists every host that may be its primary; libpq keeps the first
that takes writes. Both spellings (dj-database-url's `%2C`, libpq's `h1:p1,h2:p2`) reach psycopg
as the same `host=… port=…`, and a host that is down is skipped."""

import psycopg
import pytest
from django.db import connection

from gocua.lib.dburl import parse_database_url


def test_one_host_is_dj_database_urls_reading_with_timeouts_added():
    db = parse_database_url("postgres://gocua:secret@db:5433/gocua", conn_max_age=600)
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"], db["PASSWORD"]) == (
        "db",
        5433,
        "gocua",
        "gocua",
        "secret",
    )
    assert db["CONN_MAX_AGE"] == 600
    assert db["OPTIONS"]["connect_timeout"] == 5 and db["OPTIONS"]["keepalives"] == 1
    assert "target_session_attrs" not in db["OPTIONS"]


@pytest.mark.parametrize(
    "url, host, port",
    [
        ("postgres://gocua@db1%2Cdb2:5432/gocua", "db1,db2", "5432,5432"),
        ("postgres://gocua@db1%2Cdb2/gocua", "db1,db2", ""),
        ("postgres://gocua@db1:5432,db2:5433/gocua", "db1,db2", "5432,5433"),
        ("postgres://gocua@db1,db2:5433/gocua", "db1,db2", "5432,5433"),
        ("postgres://gocua@[::1]:5440,10.0.0.2:5441/gocua", "::1,10.0.0.2", "5440,5441"),
    ],
)
def test_several_hosts_go_to_libpq_with_the_primary_asked_for(url, host, port):
    db = parse_database_url(url)
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (host, port, "gocua", "gocua")
    assert db["OPTIONS"]["target_session_attrs"] == "read-write"


def test_the_url_may_ask_for_other_session_attributes():
    db = parse_database_url("postgres://u@db1,db2/gocua?target_session_attrs=prefer-standby")
    assert db["OPTIONS"]["target_session_attrs"] == "prefer-standby"


@pytest.mark.parametrize("url", ["postgres://u@db1:port,db2/gocua", "postgres://u@db1,,db2/gocua"])
def test_a_host_list_it_cannot_read_is_a_value_error(url):
    with pytest.raises(ValueError):
        parse_database_url(url)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="libpq's host list")
def test_a_host_that_is_down_is_skipped_for_the_next(db):
    here = connection.settings_dict
    url = f"postgres://{here['USER']}@127.0.0.1:1,{here['HOST'] or '127.0.0.1'}:{here['PORT'] or 5432}/{here['NAME']}"
    params = parse_database_url(url)
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"],
        dbname=params["NAME"],
        user=params["USER"],
        **params["OPTIONS"],
    ) as conn:
        assert conn.execute("SELECT NOT pg_is_in_recovery()").fetchone() == (True,)
        assert conn.info.port == int(here["PORT"] or 5432)
