"""Text helpers for Vietnamese names and headers."""

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[\s_\-./]+")


def nfc(value: str) -> str:
    """Collapse runs of white space and normalise to NFC (files mix NFC and NFD)."""
    return " ".join(unicodedata.normalize("NFC", value).split())


@lru_cache(maxsize=65536)  # headers, hamlet names and sex words repeat on every row
def fold(value: str) -> str:
    """Lower-case, strip diacritics (đ → d) and spacing: 'Số  CCCD' → 'so cccd'."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", bare.lower()).strip()


@lru_cache(maxsize=65536)
def key(value: str) -> str:
    """A matching key with no spaces at all: 'Ấp 1' → 'ap1'."""
    return fold(value).replace(" ", "")
