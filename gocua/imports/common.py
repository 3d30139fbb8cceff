"""What both imports share: the summary, the rejects file, the in-file seen-set, bulk writes."""

import csv
import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from django.db import connection

from gocua.lib.text import fold


@dataclass
class ImportSummary:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    rejects_file: str | None = None
    stale: int | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        if data["stale"] is None:
            del data["stale"]
        return data


class RowError(ValueError):
    """One row is rejected: which field, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_utf8(cells: list) -> None:
    """CSV cells are decoded with surrogateescape so one bad line cannot stop the file."""
    try:
        "\x1f".join(c for c in cells if isinstance(c, str)).encode("utf-8")
    except UnicodeEncodeError:
        raise RowError("row", "has bytes that are not UTF-8 (a legacy encoding?)") from None


class Rejects:
    """The rejects CSV: `line, field, reason`, then the row's original cells."""

    def __init__(self, path: str | Path | None, header: list[str]) -> None:
        self.path = Path(path) if path else None
        self.header = header
        self._fh = None
        self._writer = None

    def add(self, line: int, field: str, reason: str, cells: list) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(["line", "field", "reason", *self.header])
        self._writer.writerow([line, field, reason, *("" if c is None else c for c in cells)])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        elif self.path is not None:
            # An empty rejects file (header only) tells a script "nothing was rejected".
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh).writerow(["line", "field", "reason", *self.header])


class SeenSet:
    """National IDs already met in this file, with a hash of their row and their line.

    Kept in a temporary on-disk SQLite file rather than a Python dict, so that memory stays flat
    however long the file is (a 10M-row dict would need about 1 GB)."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="gocua-seen-")
        self._db = sqlite3.connect(Path(self._dir.name) / "seen.sqlite3")
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;"
            "CREATE TABLE seen (nid INTEGER PRIMARY KEY, h INTEGER, line INTEGER);"
        )

    def lookup(self, nids: list[str]) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for start in range(0, len(nids), 500):
            part = [int(n) for n in nids[start : start + 500]]
            marks = ",".join("?" * len(part))
            for nid, h, line in self._db.execute(
                f"SELECT nid, h, line FROM seen WHERE nid IN ({marks})", part
            ):
                found[f"{nid:012d}"] = (h, line)
        return found

    def add(self, items: list[tuple[str, int, int]]) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", [(int(n), h, ln) for n, h, ln in items]
        )

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()


def bulk_insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    """The database's own bulk path: COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)


def db_datetime(value):
    """A datetime as the current backend stores it (SQLite keeps naive UTC text)."""
    if value is None or connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


_STAGE_WORDS = {
    "none": "none", "chua dang ky": "none", "chua co": "none", "chua": "none",
    "registered": "registered", "da dang ky": "registered", "da thu nhan": "registered",
    "dang xu ly": "registered", "cho duyet": "registered",
    "approved": "approved", "da duyet": "approved", "da phe duyet": "approved",
    "failed": "failed", "khong dat": "failed", "tu choi": "failed", "khong duyet": "failed",
    "activated": "activated", "da kich hoat": "activated",
    "used": "used", "da su dung": "used",
}


def parse_stage(raw: object) -> str | None:
    text = fold(str(raw)) if raw is not None else ""
    if not text:
        return None
    stage = _STAGE_WORDS.get(text)
    if stage is None:
        raise RowError(
            "eid_stage",
            f"{raw!r} is not a stage (none, registered, approved, failed, activated, used, or "
            f"Chưa đăng ký, Đã thu nhận, Đã duyệt, Không đạt, Đã kích hoạt, Đã sử dụng)",
        )
    return stage


def parse_level(raw: object) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = int(raw)
    else:
        digits = "".join(ch for ch in str(raw) if ch.isdigit())
        if not str(raw).strip():
            return None
        if len(digits) != 1:
            raise RowError("eid_level", f"{raw!r} is not a level (0, 1 or 2)")
        value = int(digits)
    if value not in (0, 1, 2):
        raise RowError("eid_level", f"{raw!r} is not a level (0, 1 or 2)")
    return value
