"""Text helpers for Vietnamese names and headers."""

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[\s_\-./]+")


def nfc(value: str) -> str:
    """Text as it is stored: NFC (files mix NFC and NFD), runs of white space collapsed to one
    space (a line break inside an Excel cell becomes a space), and control and invisible format
    characters dropped (NUL cannot be stored by PostgreSQL; zero-width spaces and stray
    byte-order marks are noise). Every service writes text through this; input layers refuse
    control characters first, with a message (see control_character)."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if text.isprintable():  # the usual text: nothing to drop
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def _without_marks(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _bare_table() -> dict[int, str | None]:
    """Each Latin letter with diacritics → its bare letter(s), combining marks → nothing, đ → d:
    one str.translate does per character what NFD + dropping the marks does, at C speed."""
    table: dict[int, str | None] = {mark: None for mark in range(0x0300, 0x0370)}
    for start, end in ((0x00C0, 0x0250), (0x1E00, 0x1F00)):  # Latin-1 to Extended-B; Viet ạ..ỹ
        for code in range(start, end):
            bare = _without_marks(chr(code))
            if bare != chr(code):
                table[code] = bare
    table[ord("đ")], table[ord("Đ")] = "d", "D"
    return table


_BARE = _bare_table()


def bare(value: str) -> str:
    """`value` without diacritics (đ → d), case and spacing kept: 'Nguyễn Đức' → 'Nguyen Duc'.
    A name, an address or a header is folded for every row of an import: the table does the
    Vietnamese letters; only text with other marks takes the slower Unicode path."""
    text = value.translate(_BARE)
    return text if text.isascii() else _without_marks(text)


@lru_cache(maxsize=65536)  # headers, hamlet names and sex words repeat on every row
def fold(value: str) -> str:
    """Lower-case, strip diacritics (đ → d) and spacing: 'Số  CCCD' → 'so cccd'."""
    return _SPACES.sub(" ", bare(value).lower()).strip()


@lru_cache(maxsize=65536)
def key(value: str) -> str:
    """A matching key with no spaces at all: 'Ấp 1' → 'ap1'."""
    return fold(value).replace(" ", "")


# Control characters (Unicode category Cc) a person never means to type: NUL poisons
# PostgreSQL text, the others are invisible garbage from broken files or attacks. Tab, line
# feed and carriage return are allowed where text may span lines (notes).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first control character of `value` as `U+0000`, or None when there is none.
    `multiline`: tab, line feed and carriage return are allowed."""
    found = (_CONTROL if multiline else _CONTROL_OR_BREAK).search(value)
    if found is None:
        return None
    code = ord(found.group())
    return "U+0000 (NUL)" if code == 0 else f"U+{code:04X}"
