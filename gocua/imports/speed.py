"""What keeps a long import fast without changing what it does: Python's cyclic garbage collector
paused, and SQLite's checkpoints spaced out."""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


class _Collector:
    """Who paused Python's cyclic garbage collector, so that the last one out restores it."""

    lock = threading.Lock()
    pauses = 0
    was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Turn off Python's cyclic garbage collector for the duration of an import.

    An import allocates millions of short-lived tuples and strings; every few hundred
    allocations the collector walks the young objects, and often the whole heap (Django's
    included): a third of the import's CPU. Rows are plain values freed by reference counting and
    an import leaves only a handful of cycles, so there is nothing for it to find. Counted, so
    that two imports in threads of one web worker leave the collector as they found it.

    Measured again (bench/import_citizens.py, 300,000 rows on SQLite, back to back on a loaded
    host): 85 s and 141 s paused, 136 s and 228 s with the collector running."""
    with _Collector.lock:
        if _Collector.pauses == 0:
            _Collector.was_enabled = gc.isenabled()
            gc.disable()
        _Collector.pauses += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.pauses -= 1
            if _Collector.pauses == 0 and _Collector.was_enabled:
                gc.enable()


WAL_CHECKPOINT_PAGES = 20_000  # 80 MB of 4 KB pages


@contextmanager
def wal_checkpoints_spaced() -> Iterator[None]:
    """On SQLite, copy the write-ahead log back into the database file every 80 MB during an
    import instead of every 4 MB (SQLite's default, 1,000 pages).

    Each chunk's commit writes more than 1,000 pages, so by default every commit ran a
    checkpoint: it copied the pages it had just written and synced the file, 7.7 of 26 s of a
    1.2M-row import. Spaced out, a page that many chunks touch (index pages) is copied once.
    The setting belongs to this connection and is put back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(before)}")
