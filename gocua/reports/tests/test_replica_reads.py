"""Dashboards, reports and the KPI API read from a replica; the phone's API, a browser that just
wrote and a replica that cannot be reached read from the primary.

The replica is a second connection to the test database (what the primary committed, as a
standby a moment behind would hold), so these tests are transactional."""

import contextlib

import pytest
from django.db import connections

from gocua.accounts.models import AuditEntry
from gocua.lib import replicas
from gocua.reports.tests.test_dashboard_views import populate

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def queries_on(alias):
    """The statements run on `alias`'s connection inside the block (the lag query aside)."""
    seen = []

    def record(execute, sql, params, many, context):
        if "pg_is_in_recovery" not in sql:
            seen.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        yield seen


@pytest.fixture
def data(tree, teams):
    populate(tree, teams, per_hamlet=4)


def test_the_dashboard_and_its_freshness_come_from_the_replica(client, bob, data, replica):
    alias = replica()
    client.force_login(bob)
    with queries_on(alias) as on_replica, queries_on("default") as on_primary:
        response = client.get("/dashboard/")
    assert response.status_code == 200
    assert "Số liệu tính đến" in response.content.decode()
    # The figures and the moment they count to, from one database: the replica.
    assert any("reports_unitday" in sql for sql in on_replica)
    assert any("reports_rollupstate" in sql for sql in on_replica)
    assert any('MIN("queued_at")' in sql for sql in on_replica)  # what waits to be counted
    assert not any("reports_" in sql for sql in on_primary)


def test_a_report_download_reads_the_replica_and_audits_on_the_primary(client, dan, data, replica):
    alias = replica()
    client.force_login(dan)
    with queries_on(alias) as on_replica:
        response = client.get("/dashboard/2023/703/bao-cao.xlsx")
    assert response.status_code == 200
    assert any("reports_unitday" in sql for sql in on_replica)
    assert not any("INSERT" in sql for sql in on_replica)
    assert AuditEntry.objects.filter(action="export", object_type="kpi_report").count() == 1


def test_the_kpi_route_of_the_api_reads_the_replica(client, bob, token_for, data, replica):
    alias = replica()
    token = token_for(bob)
    with queries_on(alias) as on_replica:
        response = client.get("/api/v1/units/25456/kpi", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response.json()["freshness"]["status"] == "current"
    assert any("reports_unitday" in sql for sql in on_replica)
    # The token itself is looked up on the primary: a revoked token fails at once.
    assert not any("accounts_apitoken" in sql for sql in on_replica)


def test_the_phones_worklist_reads_the_primary(client, vy, token_for, replica):
    alias = replica()
    token = token_for(vy)
    with queries_on(alias) as on_replica:
        response = client.get("/api/v1/worklist", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert on_replica == []


def test_after_a_post_the_browser_reads_the_primary_for_a_moment(
    client, bob, data, replica, monkeypatch
):
    alias = replica()
    client.force_login(bob)
    client.post("/i18n/setlang/", {"language": "vi", "next": "/dashboard/"})
    assert replicas.PIN_COOKIE in client.cookies
    with queries_on(alias) as on_replica:
        assert client.get("/dashboard/").status_code == 200
    assert on_replica == []
    later = replicas.time.time() + replicas.pin_seconds() + 1
    monkeypatch.setattr(replicas.time, "time", lambda: later)
    with queries_on(alias) as on_replica:
        assert client.get("/dashboard/").status_code == 200
    assert on_replica != []


def test_an_unreachable_replica_leaves_the_dashboard_to_the_primary(client, bob, data, replica):
    # PostgreSQL: the lag query finds nobody listening. SQLite (nothing to measure): the
    # page's first read fails, and the page is made again from the primary.
    if connections["default"].vendor == "postgresql":
        down = replica(PORT=1)
    else:
        down = replica(NAME="/nonexistent/folder/gocua.sqlite3")
    client.force_login(bob)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/").status_code == 200  # left alone: no second attempt
    assert replicas._health[down].lag is None


@pytest.mark.skipif("connections['default'].vendor != 'postgresql'")
def test_a_primary_given_as_a_replica_has_no_lag(replica):
    # After a failover the promoted standby is a primary: nothing to wait for.
    assert replicas.replica_lag(replica()) == 0.0
