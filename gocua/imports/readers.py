"""Streaming readers for the CSV and XLSX files offices send.

A reader finds the header row (after any title rows), maps its cells to fields, and yields
`(line_number, cells)` one row at a time, so memory does not grow with the file.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol, cast

from django.utils.translation import gettext as _

from gocua.imports.columns import REQUIRED, field_for, field_label

HEADER_SCAN_ROWS = 30  # title rows ("DANH SÁCH ...", unit name, a date) come first
SNIFF_BYTES = 256 * 1024


class Undecodable:
    """Whether this process has decoded a CSV byte that is not UTF-8. Such a byte becomes a lone
    surrogate (surrogateescape), so one bad line cannot stop the file; `check_utf8` looks for
    one only after this is set. The decoder meets a byte before the line holding it is read."""

    seen = False


def _surrogate_escape_noted(error: UnicodeError) -> tuple[str | bytes, int]:
    Undecodable.seen = True
    return codecs.lookup_error("surrogateescape")(error)


codecs.register_error("gocua-surrogateescape", _surrogate_escape_noted)


class ImportFileError(Exception):
    """The file cannot be read at all (missing, wrong format, no header): exit status 2.
    The message is `<where>: <why>`, the why in the user's language (a page shows only it)."""


def _file_error(where: object, why: str) -> ImportFileError:
    return ImportFileError(f"{where}: {why}")


class Closable(Protocol):
    def close(self) -> None: ...


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    header: list[str]
    columns: dict[str, int]  # field -> column index
    header_line: int
    rows: Iterator[tuple[int, list]]
    sheet: str = ""
    notes: list[str] = field(default_factory=list)
    closer: Closable | None = None
    # How far through the file the rows read so far are (0..1), for a progress bar. Asked
    # where the rows are read (an import's parsing process).
    position: Callable[[], float] = lambda: 0.0

    def close(self) -> None:
        if self.closer is not None:
            self.closer.close()


def open_table(path: str | Path, *, kind: str) -> Table:
    path = Path(path)
    if not path.exists():
        raise _file_error(path, _("không có tệp này"))
    if path.is_dir():
        raise _file_error(path, _("đây là thư mục, không phải tệp"))
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise _file_error(path, _("tệp trống"))
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, kind)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error(
            path,
            _("đây là tệp Excel 97–2003 (.xls) cũ; hãy lưu lại dạng .xlsx hoặc CSV UTF-8"),
        )
    if b"\x00" in head[:4096] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error(path, _("không phải tệp CSV hay XLSX (nội dung nhị phân)"))
    return _open_csv(path, head, kind)


def _find_header(rows: Iterator[tuple[int, list]], kind: str, where: str):
    """Consume rows until the header; return (line, header cells, field->index)."""
    required = REQUIRED[kind]
    best: tuple[int, list[str]] | None = None
    for scanned, (line, cells) in enumerate(rows):
        if scanned >= HEADER_SCAN_ROWS:
            break
        columns: dict[str, int] = {}
        for index, cell in enumerate(cells):
            name = field_for(cell)
            if name and name not in columns:
                columns[name] = index
        if "national_id" in columns and len(columns) >= 2:
            missing = [f for f in required if f not in columns]
            if missing:
                raise _file_error(
                    where,
                    _(
                        "dòng tiêu đề (dòng %(line)s) thiếu cột %(columns)s, cần cho việc nhập %(kind)s"
                    )
                    % {
                        "line": line,
                        "columns": ", ".join(field_label(f) for f in missing),
                        "kind": _kind_label(kind),
                    },
                )
            return line, ["" if c is None else str(c).strip() for c in cells], columns
        if best is None and any(field_for(c) for c in cells):
            best = (line, [str(c) for c in cells if c not in (None, "")])
    hint = (
        _(" (dòng %(line)s giống dòng tiêu đề nhưng không có cột số định danh)") % {"line": best[0]}
        if best
        else ""
    )
    raise _file_error(
        where,
        _(
            "không tìm thấy dòng tiêu đề trong %(rows)s dòng đầu%(hint)s; cần các cột như "
            "Số định danh cá nhân / national_id, Họ và tên / full_name"
        )
        % {"rows": HEADER_SCAN_ROWS, "hint": hint},
    )


def _kind_label(kind: str) -> str:
    return _("danh sách dân cư") if kind == "citizens" else _("trạng thái VNeID")


def _open_csv(path: Path, head: bytes, kind: str) -> Table:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error(
            path, _("tệp mã hoá UTF-16 (Excel 'Unicode Text'); hãy lưu lại dạng 'CSV UTF-8'")
        )
    if _looks_legacy(head):
        raise _file_error(path, _legacy_encoding_message(head))
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    delimiter = _sniff_delimiter(text)
    fh = path.open("r", encoding="utf-8-sig", errors="gocua-surrogateescape", newline="")
    reader = csv.reader(fh, delimiter=delimiter)
    size = max(path.stat().st_size, 1)
    binary = cast(io.BufferedReader, fh.buffer)  # what a file opened in text mode reads from

    def position() -> float:
        # The byte position of the buffered reader under the text layer: at most one buffer
        # (8 KB) ahead of the rows handed out.
        return min(binary.tell() / size, 1.0)

    def rows() -> Iterator[tuple[int, list]]:
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            raise _file_error(
                path, _("dòng %(line)s: %(why)s") % {"line": reader.line_num, "why": exc}
            ) from None

    iterator = rows()
    try:
        line, header, columns = _find_header(iterator, kind, str(path))
    except Exception:
        fh.close()
        raise
    return Table("csv", header, columns, line, iterator, closer=fh, position=position)


def _looks_legacy(head: bytes) -> bool:
    """True when most lines with non-ASCII bytes are not UTF-8: the file was saved in a legacy
    code page. One bad line in a UTF-8 file is only that line's problem (it is rejected)."""
    lines = [ln for ln in head.split(b"\n")[:-1] if not ln.isascii()]  # last may be cut
    if not lines:
        return False
    bad = 0
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad += 1
    return bad * 2 > len(lines)


def _legacy_encoding_message(head: bytes) -> str:
    from charset_normalizer import from_bytes  # noqa: PLC0415 (only for a file that is not UTF-8)

    guess = from_bytes(head[:65536]).best()
    name = guess.encoding if guess else _("một bảng mã không rõ")
    if name in ("windows_1258", "cp1258", "cp1252", "windows_1252", "latin_1", "iso8859_1"):
        name = _("%(name)s (bảng mã Windows/TCVN)") % {"name": name}
    return _(
        "tệp không phải UTF-8 (có vẻ là %(name)s); hãy mở bằng Excel và lưu dạng "
        "'CSV UTF-8' để tên tiếng Việt không bị lỗi font"
    ) % {"name": name}


def _share_read(last: list[int], total: int) -> float:
    """How far through a sheet of `total` rows the row `last[0]` is."""
    return min(last[0] / total, 1.0)


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:HEADER_SCAN_ROWS] if ln.strip()]
    best, best_count = ",", 0
    for candidate in (",", ";", "\t"):
        count = max((ln.count(candidate) for ln in lines), default=0)
        if count > best_count:
            best, best_count = candidate, count
    return best


def _sheet_notes(book, sheet, skipped: list[str]) -> list[str]:
    """Which sheet of a workbook with several is read, and which were passed over."""
    if len(book.worksheets) <= 1:
        return []
    note = _("tệp có %(count)s trang tính; đọc trang '%(sheet)s' (trang đầu có dòng tiêu đề)")
    return [
        note % {"count": len(book.worksheets), "sheet": sheet.title}
        + (
            _(", bỏ qua %(sheets)s") % {"sheets": ", ".join(repr(s) for s in skipped)}
            if skipped
            else ""
        )
    ]


def _open_xlsx(path: Path, kind: str) -> Table:
    # Loaded when an .xlsx comes, not by every command and page: openpyxl takes 0.17 s to import.
    import openpyxl  # noqa: PLC0415
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    # A file object, not the path: openpyxl judges a path by its extension, and offices send
    # .xlsx files named .xls, .XLSX or nothing at all.
    fh = path.open("rb")
    try:
        # read_only streams rows from the zip instead of building the whole sheet in memory.
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, InvalidFileException) as exc:
        fh.close()
        raise _file_error(path, _("không đọc được tệp XLSX (%(why)s)") % {"why": exc}) from None
    closer = _Closer(book, fh)
    skipped: list[str] = []
    for sheet in book.worksheets:
        total = max(sheet.max_row or 0, 1)  # from the sheet's dimension, when Excel wrote it
        last = [0]

        def numbered(sheet=sheet, last=last) -> Iterator[tuple[int, list]]:
            for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                last[0] = index
                yield index, list(values)

        iterator = numbered()
        try:
            line, header, columns = _find_header(iterator, kind, f"{path} [{sheet.title}]")
        except ImportFileError:
            skipped.append(sheet.title)
            continue
        notes = _sheet_notes(book, sheet, skipped)
        return Table(
            "xlsx",
            header,
            columns,
            line,
            iterator,
            sheet.title,
            notes,
            closer=closer,
            position=partial(_share_read, last, total),
        )
    closer.close()
    raise _file_error(
        path,
        _(
            "không trang tính nào có dòng tiêu đề (các trang: %(sheets)s); cần các cột như "
            "Số định danh cá nhân / national_id"
        )
        % {"sheets": ", ".join(repr(s) for s in skipped) or _("không có")},
    )


class _Closer:
    def __init__(self, *things) -> None:
        self.things = things

    def close(self) -> None:
        for thing in self.things:
            thing.close()


def text_of(value: object) -> str:
    """A cell as text; numbers keep no '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
