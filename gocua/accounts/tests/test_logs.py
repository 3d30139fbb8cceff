"""Logs never hold a national ID or a phone number in clear."""

import io
import logging
import re

import pytest
from django.db import connection

from gocua.accounts.logs import ScrubbingFormatter
from gocua.lib.masking import PersonalDataFilter

NID = re.compile(r"(?<!\d)\d{12}(?!\d)")
PHONE = re.compile(r"(?<!\d)(?:\+84|84|0)\d{9}(?!\d)")

CSV = """\ufeffCÔNG AN PHƯỜNG 1\r
DANH SÁCH CÔNG DÂN\r
STT;Số định danh cá nhân;Họ và tên;Ngày sinh;Giới tính;Số điện thoại;Mã xã;Ấp/Khu phố;Mã hộ;Địa chỉ\r
1;072079001001;Quang Phú Vũ;18/12/1979;Nam;+84 376149458;25456;Khu phố 1;2545601001;38 Nguyễn Văn Linh\r
2;72179001002;Lê Thị Hồng;02/03/1979;Nữ;0912.345.678;25456;Khu phố 2;2545602001;5 Lê Lợi\r
3;072079001003;Trần Văn Bảo;1979;Nam;0201234567;25459;Khu phố 1;2545901001;7 Trần Phú\r
4;072079001004;Phạm Văn Cường;01/01/1985;Nam;0987654321;25456;Khu phố 1;2545601002;9 Hai Bà Trưng\r
5;072079001001;Quang Phú Vũ Khác;18/12/1979;Nam;0376149458;25456;Khu phố 1;2545601001;38 Nguyễn Văn Linh\r
6;999079001006;Ngô Văn Đức;01/01/1979;Nam;0971112223;25456;Khu phố 1;2545601003;1 Ba Tháng Hai\r
7;072079001007;Đỗ Văn Em;01/01/1979;Nam;0971112224;99999;Khu phố 1;2545601004;2 Ba Tháng Hai\r
"""
SECRETS = [
    "072079001001",
    "072179001002",
    "072079001003",
    "072079001004",
    "999079001006",
    "072079001007",
    "0376149458",
    "0912345678",
    "0201234567",
    "0987654321",
    "0971112223",
    "0971112224",
    "376149458",
]


def assert_clean(text: str) -> None:
    assert not NID.search(text), NID.search(text).group()
    assert not PHONE.search(text), PHONE.search(text).group()
    for secret in SECRETS:
        assert secret not in text, secret


@pytest.fixture
def console():
    """The configured console handler, writing into a string for the test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PersonalDataFilter) for f in h.filters)
    )
    stream = io.StringIO()
    old = handler.setStream(stream)
    old_level = handler.level
    handler.setLevel(logging.DEBUG)
    yield stream
    handler.setStream(old)
    handler.setLevel(old_level)


def test_it_keeps_personal_data_out_of_an_import_s_logs(tree, caplog, console, tmp_path):
    from gocua.imports.citizens import citizens_import

    path = tmp_path / "ds.csv"
    path.write_text(CSV, encoding="utf-8")
    warnings: list[str] = []
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # every SQL statement and its parameters, logged
    try:
        summary, notes = citizens_import(
            str(path),
            edition=2023,
            on_warning=warnings.append,
            rejects_path=str(tmp_path / "rejects.csv"),
        )
        logging.getLogger("gocua.test").warning(
            "a careless line about %s at %s", "072079001004", "+84 987 654 321"
        )
    finally:
        connection.force_debug_cursor = False
    assert summary.inserted >= 3 and summary.rejected >= 2 and summary.warnings >= 1
    assert any("INSERT" in r.getMessage() or "SELECT" in r.getMessage() for r in caplog.records)
    assert_clean(caplog.text)
    assert_clean("\n".join(warnings))
    assert_clean("\n".join(notes))
    assert_clean(console.getvalue())
    assert "072******004" in caplog.text


def test_it_masks_messages_with_arguments():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "resident %s phone %s", ("072079001001", "0912345678"), None
    )
    PersonalDataFilter().filter(record)
    assert record.getMessage() == "resident 072******001 phone 09*****678"


def test_it_masks_tracebacks_in_the_formatted_line():
    try:
        raise ValueError("duplicate key (national_id)=(072079001001)")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = ScrubbingFormatter("%(message)s").format(record)
    assert "072079001001" not in line and "072******001" in line


def test_it_masks_records_made_anywhere():
    record = logging.getLogger("any.library").makeRecord(
        "any.library", logging.INFO, __file__, 1, "%s", ("0912345678",), None
    )
    assert record.getMessage() == "09*****678"
