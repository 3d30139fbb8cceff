"""Reads of dashboards and reports from PostgreSQL standbys (`DATABASE_REPLICA_URL`).

Opt-in: only a view wrapped in `replica_reads` (a page or a ninja route) may read from a
replica; everything else (the phone's worklist and sync, every form, the worker) reads where it
writes, on the primary. Inside such a view `ReplicaRouter.db_for_read` answers a replica only
while all of these hold, else the primary:

- the request is a GET or HEAD, and this browser has not written in the last few seconds (the
  `gocua_primary_until` cookie that `PrimaryAfterWrite` sets on every POST, PUT, PATCH or
  DELETE): a person who just saved something sees it on the next page;
- no transaction is open on the primary (what a transaction reads feeds its writes) and the
  request has not written yet (its later reads see its own writes);
- the replica is streaming from the primary and its replay lag is at most
  `REPLICA_MAX_LAG` seconds (`GOCUA_REPLICA_MAX_LAG`, 3).

The lag is measured by one query on the replica, at most once a second per process and
replica (`replica_lag`); a replica that cannot be reached is tried again after `RETRY_AFTER`
seconds, the primary serving meanwhile. The first replica a request reads from serves its
other reads too, so a page's figures and its "figures as of" line come from one database.
Writes always go to the primary; so do migrations.
"""

import functools
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections
from django.http import HttpRequest, HttpResponseBase

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds a replica's measured lag is trusted before it is measured again
RETRY_AFTER = 5.0  # seconds an unreachable replica is left alone before it is tried again
PIN_COOKIE = "gocua_primary_until"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


@dataclass
class _Reads:
    """The replica reads of one request: the replica chosen at its first read, and whether it
    has written since (its later reads then go to the primary)."""

    alias: str | None = None  # a replica, or the primary when none was fresh
    wrote: bool = False


# Set by `replica_reads` for the duration of one view; granian runs WSGI requests in threads,
# each with its own context, so one request never sees another's.
_reads: ContextVar[_Reads | None] = ContextVar("replica_reads", default=None)


def replica_aliases() -> list[str]:
    """The database aliases of the replicas (settings.DATABASE_REPLICAS), in their order."""
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def pin_seconds() -> float:
    """How long a browser reads from the primary after a write: the lag a replica may have, the
    time its lag is trusted unmeasured, and a second for the clocks of the two servers."""
    return float(settings.REPLICA_MAX_LAG) + CHECK_EVERY + 1.0


def serving_replica() -> str | None:
    """The replica serving the current request's reads, if any (for a page to say so)."""
    reads = _reads.get()
    if reads is None or reads.wrote or reads.alias == DEFAULT_DB_ALIAS:
        return None
    return reads.alias


# ---- the replicas' health, shared by the threads of a process --------------------------------


@dataclass
class _Health:
    lag: float | None = None  # seconds; None: unreachable, not streaming, or not measured yet
    due: float = 0.0  # time.monotonic() at which to measure again
    probing: bool = False  # a thread is measuring it now: the others keep the last verdict


_health: dict[str, _Health] = {}
_health_lock = threading.Lock()
_turn = itertools.count()

# 0 on a server that is not in recovery (a primary: a promoted standby has no lag), NULL on a
# standby whose WAL receiver is not running (cut off from its primary: its data is stale
# however caught up its replay looks), else the age of the last transaction replayed unless
# everything received is replayed (NULL when none was replayed since it started: unknown, so
# not taken). `status` is NULL for a role without pg_read_all_stats; the
# receiver's row existing at all then says it runs.
_LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver "
    "WHERE COALESCE(status, 'streaming') = 'streaming') THEN NULL "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)


def replica_lag(alias: str) -> float | None:
    """Seconds the replica `alias` is behind its primary, measured now with one query; None
    when it is not streaming. Raises DatabaseError when it cannot be reached. A database that
    is not PostgreSQL (a test's second connection to SQLite) replicates nothing: 0."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute(_LAG_SQL)
        row = cursor.fetchone()
    return None if row is None or row[0] is None else max(0.0, float(row[0]))


def _measure(alias: str) -> float | None:
    try:
        return replica_lag(alias)
    except DatabaseError as exc:
        _close_quietly(alias)
        with _health_lock:
            was_up = _health[alias].lag is not None
        if was_up:
            log.warning("replica %s unreachable, reading from the primary: %s", alias, exc)
        raise


def _close_quietly(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass


def _known_lag(alias: str) -> float | None:
    """The replica's lag as last measured, measured again when due: by one thread at a time,
    the others keeping the last verdict meanwhile (never waiting on a slow connect)."""
    now = time.monotonic()
    with _health_lock:
        health = _health.setdefault(alias, _Health())
        if now < health.due or health.probing:
            return health.lag
        health.probing = True
    lag, wait = None, RETRY_AFTER
    try:
        lag, wait = _measure(alias), CHECK_EVERY
    except DatabaseError:
        pass
    finally:
        with _health_lock:
            health.lag, health.probing = lag, False
            health.due = time.monotonic() + wait
    return lag


def mark_unreachable(alias: str) -> None:
    """A read on the replica failed: the primary serves until it is measured again."""
    _close_quietly(alias)
    with _health_lock:
        health = _health.setdefault(alias, _Health())
        health.lag, health.due = None, time.monotonic() + RETRY_AFTER


def forget_health() -> None:
    """Forget every measurement (tests, and a process that changes its replicas)."""
    with _health_lock:
        _health.clear()


def fresh_replica() -> str | None:
    """A replica within the lag allowed, taking turns among those that are; None if none is."""
    allowed = float(settings.REPLICA_MAX_LAG)
    fresh = []
    for alias in replica_aliases():
        lag = _known_lag(alias)
        if lag is not None and lag <= allowed:
            fresh.append(alias)
    return fresh[next(_turn) % len(fresh)] if fresh else None


# ---- the router ------------------------------------------------------------------------------


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads of a `replica_reads` view to a fresh replica, all else to
    the primary (see the module's docstring)."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        reads = _reads.get()
        if reads is None:
            return None  # not opted in: Django's own choice, the primary
        if reads.wrote or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        if reads.alias is None:
            # Chosen once: with no fresh replica now, the request stays on the primary.
            reads.alias = fresh_replica() or DEFAULT_DB_ALIAS
        return reads.alias

    def db_for_write(self, model: type, **hints: Any) -> str:
        reads = _reads.get()
        if reads is not None:
            reads.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: object, obj2: object, **hints: Any) -> bool:
        return True  # the replicas hold the primary's rows: the same database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


# ---- views -----------------------------------------------------------------------------------

V = TypeVar("V", bound=Callable[..., Any])


def _pinned(request: HttpRequest) -> bool:
    """This browser wrote a moment ago (PrimaryAfterWrite's cookie has not run out)."""
    try:
        until = float(request.COOKIES.get(PIN_COOKIE, "0"))
    except ValueError:
        return False
    return time.time() < until


def replica_reads(view: V) -> V:
    """Let the view's reads go to a fresh replica (see the module's docstring). Put it below
    `login_required`, so the session and the user are read on the primary: a logout or a
    revoked token counts at once. Works for Django views and ninja routes alike.

    If a read on the replica fails, the view runs again on the primary, unless it wrote."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not replica_aliases() or request.method not in ("GET", "HEAD") or _pinned(request):
            return view(request, *args, **kwargs)
        reads = _Reads()
        token = _reads.set(reads)
        try:
            return view(request, *args, **kwargs)
        except OperationalError:
            failed = reads.alias
            if failed is None or failed == DEFAULT_DB_ALIAS or reads.wrote:
                raise
            mark_unreachable(failed)
            log.warning("read on replica %s failed; page served by the primary", failed)
        finally:
            _reads.reset(token)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]  # the same signature, as functools.wraps says


class PrimaryAfterWrite:
    """Middleware: after a request that may have written (any method but GET, HEAD, OPTIONS,
    TRACE), the browser reads from the primary for `pin_seconds()`: what it saved is on the
    next page although a replica may not have replayed it yet.

    A cookie, not the session: it costs no write and reaches every web server behind a load
    balancer. It holds only a moment, unsigned: a forged one only moves that browser's own reads
    to the primary (or to a replica that may miss its own latest write)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and replica_aliases():
            seconds = pin_seconds()
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.1f}",
                max_age=math.ceil(seconds),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
