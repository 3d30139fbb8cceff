import datetime as dt

import pytest

from gocua.lib.dates import DateError, parse_birth, parse_datetime

TODAY = dt.date(2026, 11, 29)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("05/03/1990", dt.date(1990, 3, 5)),
        ("5/3/1990", dt.date(1990, 3, 5)),
        ("1990-03-05", dt.date(1990, 3, 5)),
        (dt.datetime(1990, 3, 5), dt.date(1990, 3, 5)),  # noqa: DTZ001 - an Excel date cell is naive
        (32937, dt.date(1990, 3, 5)),  # an Excel serial number left unformatted
    ],
)
def test_it_reads_the_formats_offices_use(raw, expected):
    assert parse_birth(raw, TODAY) == (expected, False)


def test_it_reads_a_year_alone_as_first_of_january():
    assert parse_birth("1938", TODAY) == (dt.date(1938, 1, 1), True)
    assert parse_birth(1938, TODAY) == (dt.date(1938, 1, 1), True)


def test_it_refuses_the_future_and_over_120_years():
    with pytest.raises(DateError, match="là ngày trong tương lai"):
        parse_birth("01/01/2027", TODAY)
    with pytest.raises(DateError, match="cách đây hơn 120 năm"):
        parse_birth("1900", TODAY)


def test_it_refuses_nonsense():
    with pytest.raises(DateError):
        parse_birth("31/02/1990", TODAY)
    with pytest.raises(DateError):
        parse_birth("hôm qua", TODAY)


def test_it_reads_extract_timestamps():
    tz = dt.timezone(dt.timedelta(hours=7))
    assert parse_datetime("2026-11-20 10:00", tz) == dt.datetime(2026, 11, 20, 10, 0, tzinfo=tz)
    assert parse_datetime("20/11/2026 10:00", tz) == dt.datetime(2026, 11, 20, 10, 0, tzinfo=tz)
    assert parse_datetime("20/11/2026", tz) == dt.datetime(2026, 11, 20, tzinfo=tz)
