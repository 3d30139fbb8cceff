"""The router of the read replicas: which reads go to a standby and which stay on the primary.

The replicas' lag is stood in for (`lags`), so these tests need no database; the views that
read through a real second connection are tested in gocua/reports/tests/test_replica_reads.py.
"""

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, router, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from gocua.geo.models import AdminUnit
from gocua.lib import replicas


class Lags:
    """The replicas' lags as `replica_lag` would measure them (`store`: seconds, None when not
    streaming, an exception when unreachable), the measurements asked, and the clock."""

    def __init__(self):
        self.store = {"replica_1": 0.0}
        self.asked = []
        self.now = 1000.0

    def measure(self, alias):
        self.asked.append(alias)
        value = self.store[alias]
        if isinstance(value, Exception):
            raise value
        return value


@pytest.fixture
def lags(monkeypatch, settings):
    lags = Lags()
    monkeypatch.setattr(replicas, "replica_lag", lags.measure)
    monkeypatch.setattr(replicas, "_close_quietly", lambda alias: None)  # no such connection
    monkeypatch.setattr(replicas.time, "monotonic", lambda: lags.now)
    settings.DATABASE_REPLICAS = ["replica_1"]
    settings.REPLICA_MAX_LAG = 3.0
    replicas.forget_health()
    yield lags
    replicas.forget_health()


def read_alias(request=None, *, reads=1):
    """Where the reads of a `replica_reads` view go, for a GET unless told."""
    seen = []

    @replicas.replica_reads
    def view(request):
        for _ in range(reads):
            seen.append(router.db_for_read(AdminUnit))
        return HttpResponse()

    view(request or RequestFactory().get("/dashboard/"))
    return seen[0] if reads == 1 else seen


def test_a_view_not_marked_reads_from_the_primary(lags):
    assert router.db_for_read(AdminUnit) == DEFAULT_DB_ALIAS
    assert lags.asked == []


def test_a_marked_view_reads_from_a_fresh_replica(lags):
    assert read_alias() == "replica_1"


def test_writes_and_migrations_stay_on_the_primary(lags):
    assert router.db_for_write(AdminUnit) == DEFAULT_DB_ALIAS
    assert router.allow_migrate("replica_1", "geo") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "geo") is True


def test_without_replicas_a_marked_view_reads_from_the_primary(lags, settings):
    settings.DATABASE_REPLICAS = []
    assert read_alias() == DEFAULT_DB_ALIAS
    assert lags.asked == []


def test_a_post_to_a_marked_view_reads_from_the_primary(lags):
    assert read_alias(RequestFactory().post("/dashboard/")) == DEFAULT_DB_ALIAS


def test_after_the_request_wrote_its_reads_go_to_the_primary(lags):
    seen = []

    @replicas.replica_reads
    def view(request):
        seen.append(router.db_for_read(AdminUnit))
        router.db_for_write(AdminUnit)  # an audit row, say
        seen.append(router.db_for_read(AdminUnit))
        return HttpResponse()

    view(RequestFactory().get("/"))
    assert seen == ["replica_1", DEFAULT_DB_ALIAS]


def test_a_replica_lagging_more_than_allowed_is_left_alone(lags, settings):
    lags.store["replica_1"] = 3.5
    assert read_alias() == DEFAULT_DB_ALIAS
    settings.REPLICA_MAX_LAG = 5.0
    lags.now += replicas.CHECK_EVERY
    assert read_alias() == "replica_1"


def test_a_replica_cut_off_from_its_primary_is_left_alone(lags):
    lags.store["replica_1"] = None  # its WAL receiver is not streaming
    assert read_alias() == DEFAULT_DB_ALIAS


def test_the_lag_is_measured_once_a_second_not_at_every_request(lags):
    for _ in range(5):
        assert read_alias() == "replica_1"
    assert lags.asked == ["replica_1"]
    lags.store["replica_1"] = 10.0
    lags.now += replicas.CHECK_EVERY
    assert read_alias() == DEFAULT_DB_ALIAS
    assert lags.asked == ["replica_1", "replica_1"]


def test_an_unreachable_replica_is_tried_again_only_after_a_pause(lags):
    lags.store["replica_1"] = OperationalError("connection refused")
    assert read_alias() == DEFAULT_DB_ALIAS
    lags.now += replicas.CHECK_EVERY
    assert read_alias() == DEFAULT_DB_ALIAS
    assert lags.asked == ["replica_1"]  # not asked again within the pause
    lags.store["replica_1"] = 0.2  # back
    lags.now += replicas.RETRY_AFTER
    assert read_alias() == "replica_1"


def test_one_request_keeps_the_replica_it_started_on(lags, settings):
    lags.store["replica_2"] = 0.0
    settings.DATABASE_REPLICAS = ["replica_1", "replica_2"]
    first, *rest = read_alias(reads=5)
    assert rest == [first] * 4


def test_requests_take_turns_among_the_fresh_replicas_only(lags, settings):
    lags.store.update(replica_2=0.0, replica_3=60.0)
    settings.DATABASE_REPLICAS = ["replica_1", "replica_2", "replica_3"]
    assert {read_alias() for _ in range(6)} == {"replica_1", "replica_2"}


def test_a_failed_read_on_the_replica_runs_the_view_again_on_the_primary(lags):
    seen = []

    @replicas.replica_reads
    def view(request):
        alias = router.db_for_read(AdminUnit)
        seen.append(alias)
        if alias != DEFAULT_DB_ALIAS:
            raise OperationalError("terminating connection due to conflict with recovery")
        return HttpResponse("ok")

    assert view(RequestFactory().get("/")).content == b"ok"
    assert seen == ["replica_1", DEFAULT_DB_ALIAS]
    assert read_alias() == DEFAULT_DB_ALIAS  # left alone for a while


def test_a_failed_read_after_a_write_is_not_run_again(lags):
    @replicas.replica_reads
    def view(request):
        router.db_for_read(AdminUnit)
        router.db_for_write(AdminUnit)
        raise OperationalError("gone")

    with pytest.raises(OperationalError):
        view(RequestFactory().get("/"))


@pytest.mark.django_db
def test_inside_a_transaction_reads_go_to_the_primary(lags):
    # A rollback test runs inside a transaction on the primary, as a service's atomic would.
    with transaction.atomic():
        assert read_alias() == DEFAULT_DB_ALIAS


def test_a_browser_that_just_wrote_reads_from_the_primary_until_the_pin_ends(lags, monkeypatch):
    def post(request):
        return HttpResponse()

    middleware = replicas.PrimaryAfterWrite(post)
    monkeypatch.setattr(replicas.time, "time", lambda: 5000.0)
    response = middleware(RequestFactory().post("/visits/"))
    cookie = response.cookies[replicas.PIN_COOKIE]
    assert float(cookie.value) == 5000.0 + replicas.pin_seconds()
    assert cookie["max-age"] == 5 and cookie["httponly"]
    after = RequestFactory().get("/dashboard/")
    after.COOKIES[replicas.PIN_COOKIE] = cookie.value
    assert read_alias(after) == DEFAULT_DB_ALIAS
    monkeypatch.setattr(replicas.time, "time", lambda: 5000.0 + replicas.pin_seconds() + 0.1)
    assert read_alias(after) == "replica_1"


def test_reads_set_no_pin_and_nothing_is_pinned_without_replicas(lags, settings):
    middleware = replicas.PrimaryAfterWrite(lambda request: HttpResponse())
    assert replicas.PIN_COOKIE not in middleware(RequestFactory().get("/")).cookies
    settings.DATABASE_REPLICAS = []
    assert replicas.PIN_COOKIE not in middleware(RequestFactory().post("/")).cookies


def test_a_forged_pin_is_ignored(lags):
    request = RequestFactory().get("/")
    request.COOKIES[replicas.PIN_COOKIE] = "soon"
    assert read_alias(request) == "replica_1"


def test_replica_urls_are_read_like_the_primarys(monkeypatch):
    from gocua import settings as gocua_settings

    primary = gocua_settings._database("postgres://u@db/gocua")
    monkeypatch.setenv(
        "DATABASE_REPLICA_URL",
        "postgres://u@r1/gocua, postgres://u@r2%2Cr3:5432/gocua?connect_timeout=5",
    )
    found = gocua_settings._replicas(primary)
    assert list(found) == ["replica_1", "replica_2"]
    first, second = found.values()
    assert second["HOST"] == "r2,r3"  # a standby among several hosts, as libpq tries them
    assert first["HOST"] == "r1" and first["ENGINE"] == primary["ENGINE"]
    assert first["OPTIONS"]["connect_timeout"] == 2  # a standby down must not hold a page
    assert first["OPTIONS"]["server_side_binding"] is True  # as the primary's
    assert str(second["OPTIONS"]["connect_timeout"]) == "5"  # the URL's own
    assert first["TEST"] == {"MIRROR": "default"}


def test_a_replica_of_sqlite_is_refused_in_one_line(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from gocua import settings as gocua_settings

    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://u@r1/gocua")
    with pytest.raises(ImproperlyConfigured, match="needs PostgreSQL"):
        gocua_settings._replicas(gocua_settings._sqlite("/tmp/x.sqlite3"))
    primary = gocua_settings._database("postgres://u@db/gocua")
    monkeypatch.setenv("DATABASE_REPLICA_URL", "sqlite:///copy.sqlite3")
    with pytest.raises(ImproperlyConfigured, match="postgres://… URLs only"):
        gocua_settings._replicas(primary)


def test_a_host_list_inside_a_replica_url_stays_in_it_and_asks_for_a_standby(monkeypatch):
    from gocua import settings as gocua_settings

    monkeypatch.setenv(
        "DATABASE_REPLICA_URL", "postgres://u@h1:5432,h2:5433/gocua,postgres://u@h3/gocua"
    )
    replicas = gocua_settings._replicas({"ENGINE": "gocua.lib.postgresql"})
    first, second = replicas["replica_1"], replicas["replica_2"]
    assert (first["HOST"], first["PORT"], second["HOST"]) == ("h1,h2", "5432,5433", "h3")
    assert first["OPTIONS"]["target_session_attrs"] == "prefer-standby"
    assert first["OPTIONS"]["connect_timeout"] == second["OPTIONS"]["connect_timeout"] == 2
    assert first["TEST"] == {"MIRROR": "default"}
