"""The PostgreSQL health check without a round trip (gocua.lib.postgresql)."""

import select

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend's own health check"
)


def _terminate_backend_of(conn) -> None:
    import psycopg

    pid = conn.connection.info.backend_pid
    settings = conn.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The backend says goodbye and closes the socket as it exits: wait for that (at most 10 s),
    # as a request arriving after a restart would find it.
    select.select([conn.connection.pgconn.socket], [], [], 10)


@pytest.mark.django_db(transaction=True)
def test_it_sees_a_live_connection_as_usable_without_a_query(django_assert_num_queries):
    connection.ensure_connection()
    with django_assert_num_queries(0):
        assert connection.is_usable()


@pytest.mark.django_db(transaction=True)
def test_it_sees_a_connection_the_server_dropped_and_the_next_request_reconnects(client):
    from gocua.geo.models import AdminUnit

    connection.ensure_connection()
    _terminate_backend_of(connection)
    try:
        assert not connection.is_usable()
        # What Django does at the start of a request with CONN_HEALTH_CHECKS: a new
        # connection, so the request that follows a database restart does not fail.
        connection.health_check_enabled, connection.health_check_done = True, False
        connection.close_if_health_check_failed()
        assert AdminUnit.objects.count() >= 0
        assert connection.is_usable()
    finally:
        if not connection.is_usable():
            connection.close()  # so that the test database can be cleaned whatever happened


@pytest.mark.django_db(transaction=True)
def test_it_does_not_trust_a_connection_in_a_failed_transaction():
    from django.db import DatabaseError, transaction

    with transaction.atomic():
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        assert not connection.is_usable()
