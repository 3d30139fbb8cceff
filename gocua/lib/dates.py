"""Dates as officials write them."""

import datetime as dt
from functools import lru_cache

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug)


class DateError(ValueError):
    pass


def excel_serial(value: float) -> dt.date:
    return _EXCEL_EPOCH + dt.timedelta(days=int(value))


def parse_date(raw: object) -> dt.date | None:
    """dd/mm/yyyy, d/m/yyyy, yyyy-mm-dd, an Excel date or serial. None when empty."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if 1 <= raw < 100000:
            return excel_serial(raw)
        raise DateError(f"{raw!r} is not a date")
    text = str(raw).strip()
    if not text:
        return None
    try:
        if "/" in text or "." in text:
            sep = "/" if "/" in text else "."
            day, month, year = (int(p) for p in text.split(sep))
            if year < 100:
                raise DateError(f"{text!r}: write the year with 4 digits")
            return dt.date(year, month, day)
        if "-" in text:
            head = text.split(" ")[0].split("T")[0]
            parts = head.split("-")
            if len(parts[0]) == 4:
                return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            return dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
        if text.isdigit() and len(text) >= 5:
            return excel_serial(int(text))
    except DateError:
        raise
    except (ValueError, IndexError) as exc:
        raise DateError(f"{text!r} is not a valid date") from exc
    raise DateError(f"{text!r} is not a date (use dd/mm/yyyy)")


@lru_cache(maxsize=131072)  # birth dates repeat a lot in a province-sized file
def parse_birth(raw: object, today: dt.date) -> tuple[dt.date, bool] | None:
    """(date, year_only). A year alone (common for the elderly) counts as 1 January."""
    if raw is None:
        return None
    year_only = False
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 1000 <= raw <= 9999:
        born, year_only = dt.date(int(raw), 1, 1), True
    else:
        text = str(raw).strip()
        if not text:
            return None
        if text.isdigit() and len(text) == 4:
            born, year_only = dt.date(int(text), 1, 1), True
        else:
            born = parse_date(raw)
            if born is None:
                return None
    if born > today:
        raise DateError(f"{born:%d/%m/%Y} is in the future")
    if born.year < today.year - 120:
        raise DateError(f"{born:%d/%m/%Y} is more than 120 years ago")
    return born, year_only


def parse_datetime(raw: object, tz: dt.tzinfo) -> dt.datetime | None:
    """A timestamp from an extract: ISO 8601, dd/mm/yyyy [HH:MM[:SS]], or an Excel value."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=tz)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        whole = int(raw)
        seconds = round((raw - whole) * 86400)
        base = dt.datetime.combine(excel_serial(whole), dt.time(), tz)
        return base + dt.timedelta(seconds=seconds)
    text = str(raw).strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=tz)
    except ValueError:
        pass
    date_part, _, time_part = text.partition(" ")
    day = parse_date(date_part)
    if day is None:
        return None
    clock = dt.time()
    if time_part:
        try:
            clock = dt.time.fromisoformat(time_part.strip())
        except ValueError as exc:
            raise DateError(f"{time_part!r} is not a time (use HH:MM)") from exc
    return dt.datetime.combine(day, clock, tz)
