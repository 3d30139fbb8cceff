"""One row of an import file: its fields picked from the cells, the checks every import makes
on its text, the funnel stage and level as officials write them, and RowError, which rejects it."""

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

from gocua.imports.readers import Undecodable
from gocua.lib.limits import too_long
from gocua.lib.text import control_character, fold


class RowError(ValueError):
    """One row is rejected: which field, and why."""

    def __init__(self, field: str, reason: str, *, national_id: str | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        # Set by a check made after the row parsed (its unit): the row's warnings still count.
        self.national_id = national_id


def picker(
    columns: dict[str, int], fields: tuple[str, ...], *, text: bool = False
) -> Callable[[list], tuple]:
    """A function that takes a row's cells and returns the `fields` in order, stripped, with
    None for a column the file lacks or a short row (hot path: one call per row). `text`: every
    cell is a str (a CSV file), so stripping needs no type test.

    A plain closure: compiling one from source per file (as namedtuple does) saved 1 µs a row,
    0.3 s of a 300,000-row import, in the parsing process, which waits on the writing one."""
    indices = [columns.get(f) for f in fields]
    need = max((i for i in indices if i is not None), default=-1) + 1
    strip = str.strip if text else _stripped

    def pick(cells: list) -> tuple:
        if len(cells) < need:
            cells = [*cells, *[None] * (need - len(cells))]
            return tuple([None if i is None else _stripped(cells[i]) for i in indices])
        return tuple([None if i is None else strip(cells[i]) for i in indices])

    return pick


def _stripped(value: object) -> object:
    return value.strip() if type(value) is str else value


# A byte that was not UTF-8, as CSV cells decoded with surrogateescape hold it.
LONE_SURROGATE = re.compile("[\udc80-\udcff]")


def check_utf8(*texts: object) -> None:
    """CSV cells are decoded with surrogateescape so one bad line cannot stop the file; a bad
    byte shows as a lone surrogate. Only text fields need the check: a bad byte in a number
    field already fails that field's own rule. Nothing to look for (three regex searches a
    row) until this process has met such a byte (see readers.Undecodable)."""
    if not Undecodable.seen:
        return
    for text in texts:
        if type(text) is str and LONE_SURROGATE.search(text):
            raise RowError("row", _("có byte không phải UTF-8 (tệp lưu theo bảng mã cũ?)"))


def check_controls(*fields: tuple[str, object]) -> None:
    """Refuse a row whose text cells hold control characters (NUL and the like: a broken or
    hostile file; tab and line breaks are white space and fine). Nothing to do for the usual
    cell, which is printable."""
    for field, value in fields:
        if type(value) is str and not value.isprintable():
            found = control_character(value, multiline=True)
            if found:
                raise RowError(field, _("có ký tự điều khiển (%(char)s)") % {"char": found})


def check_length(field: str, value: str, limit: int) -> None:
    """Refuse a row whose text is longer than the product keeps (gocua.lib.limits), with the
    field, its length and the limit: never cut silently."""
    if len(value) > limit:
        raise RowError(field, too_long(limit, len(value)))


_STAGE_WORDS = {
    "none": "none",
    "chua dang ky": "none",
    "chua co": "none",
    "chua": "none",
    "registered": "registered",
    "da dang ky": "registered",
    "da thu nhan": "registered",
    "dang xu ly": "registered",
    "cho duyet": "registered",
    "approved": "approved",
    "da duyet": "approved",
    "da phe duyet": "approved",
    "failed": "failed",
    "khong dat": "failed",
    "tu choi": "failed",
    "khong duyet": "failed",
    "activated": "activated",
    "da kich hoat": "activated",
    "used": "used",
    "da su dung": "used",
}


def parse_stage(raw: object) -> str | None:
    text = fold(str(raw)) if raw is not None else ""
    if not text:
        return None
    stage = _STAGE_WORDS.get(text)
    if stage is None:
        raise RowError(
            "eid_stage",
            _(
                "“%(value)s” không phải trạng thái (Chưa đăng ký, Đã thu nhận, Đã duyệt, "
                "Không đạt, Đã kích hoạt, Đã sử dụng, hoặc none, registered, approved, failed, "
                "activated, used)"
            )
            % {"value": raw},
        )
    return stage


def _level_wrong(raw: object) -> str:
    return _("“%(value)s” không phải mức độ (0, 1 hoặc 2)") % {"value": raw}


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
            raise RowError("eid_level", _level_wrong(raw))
        value = int(digits)
    if value not in (0, 1, 2):
        raise RowError("eid_level", _level_wrong(raw))
    return value
