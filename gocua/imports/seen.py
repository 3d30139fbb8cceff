"""National IDs already met in the file being imported, kept on disk."""

import sqlite3
import tempfile
from itertools import chain
from pathlib import Path


class SeenSet:
    """National IDs already met in this file, with a hash of their row and their line.

    Kept in a temporary on-disk SQLite file rather than a Python dict, so that memory stays flat
    however long the file is (a 10M-row dict would need about 1 GB). The file is opened on first
    use: by the parsing process when there is one (forked after this is made, it must not share
    a connection), else by this one."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="gocua-seen-")
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(Path(self._dir.name) / "seen.sqlite3")
            self._db.executescript(
                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;"
                "CREATE TABLE IF NOT EXISTS seen (nid INTEGER PRIMARY KEY, h INTEGER, line INTEGER);"
            )
        return self._db

    def meet(self, items: list[tuple[str, int, int]]) -> list[tuple[int, int] | None]:
        """Remember each (national ID, row hash, line) whose ID is new, in order; returns, for
        each item, None when it is the first with its ID, else the first one's (hash, line)."""
        db = self._connection()
        values = [(int(nid), h, line) for nid, h, line in items]
        new: set[int] = set()
        # INSERT OR IGNORE ... RETURNING tells which IDs are new without looking each one up;
        # only the (rare) repeats are looked up. 3 variables a row: SQLite allows 32,766.
        for start in range(0, len(values), 10_000):
            part = values[start : start + 10_000]
            rows = db.execute(
                f"INSERT OR IGNORE INTO seen VALUES {','.join(['(?,?,?)'] * len(part))} "
                "RETURNING nid",
                list(chain.from_iterable(part)),
            )
            new.update(nid for (nid,) in rows)
        repeated: list[int | None] = []  # per item: None for a first, else the ID it repeats
        for nid, _h, _line in values:
            if nid in new:
                new.discard(nid)  # the first row with this ID; any later one repeats it
                repeated.append(None)
            else:
                repeated.append(nid)
        later = [nid for nid in repeated if nid is not None]
        if not later:
            return [None] * len(values)
        prior = self._lookup(later)
        return [None if nid is None else prior[nid] for nid in repeated]

    def _lookup(self, nids: list[int]) -> dict[int, tuple[int, int]]:
        found: dict[int, tuple[int, int]] = {}
        for start in range(0, len(nids), 500):
            part = nids[start : start + 500]
            marks = ",".join("?" * len(part))
            for nid, h, line in self._connection().execute(
                f"SELECT nid, h, line FROM seen WHERE nid IN ({marks})", part
            ):
                found[nid] = (h, line)
        return found

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._dir.cleanup()
