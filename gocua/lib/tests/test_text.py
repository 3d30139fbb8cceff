"""gocua.lib.text: folding names and headers for matching and search."""

import re


def _fold_by_unicode(value: str) -> str:
    """fold as first written: NFD, drop the marks, lower case (the translation table's oracle)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    without = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return re.sub(r"[\s_\-./]+", " ", without.lower()).strip()


def test_the_fast_fold_agrees_with_unicode_on_every_letter_and_mark():
    from gocua.lib.text import fold

    letters = [chr(code) for code in range(0x20, 0x3000) if not 0xD800 <= code < 0xE000]
    mismatched = [
        ch for ch in letters if fold.__wrapped__(f"a{ch}b") != _fold_by_unicode(f"a{ch}b")
    ]
    assert mismatched == []
    for name in ("Nguyễn Văn Long", "ĐẶNG THỊ Ỷ", "Phạm Hoàng  Yến", "Lê\u0301 Thị"):
        assert fold.__wrapped__(name) == _fold_by_unicode(name)
