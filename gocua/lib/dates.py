"""Dates as officials write them."""

import datetime as dt
from functools import lru_cache

from django.utils.translation import gettext as _

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
        raise DateError(_("“%(value)s” không phải ngày") % {"value": raw})
    text = str(raw).strip()
    if not text:
        return None
    try:
        if "/" in text or "." in text:
            sep = "/" if "/" in text else "."
            day, month, year = (int(p) for p in text.split(sep))
            if year < 100:
                raise DateError(_("“%(value)s”: hãy ghi năm đủ 4 chữ số") % {"value": text})
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
        raise DateError(_("“%(value)s” không phải ngày có thật") % {"value": text}) from exc
    raise DateError(_("“%(value)s” không phải ngày (ghi theo dd/mm/yyyy)") % {"value": text})


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
            parsed = parse_date(raw)
            if parsed is None:
                return None
            born = parsed
    if born > today:
        raise DateError(_("%(date)s là ngày trong tương lai") % {"date": f"{born:%d/%m/%Y}"})
    if born.year < today.year - 120:
        raise DateError(_("%(date)s cách đây hơn 120 năm") % {"date": f"{born:%d/%m/%Y}"})
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
    date_part, _space, time_part = text.partition(" ")
    day = parse_date(date_part)
    if day is None:
        return None
    clock = dt.time()
    if time_part:
        try:
            clock = dt.time.fromisoformat(time_part.strip())
        except ValueError as exc:
            raise DateError(
                _("“%(value)s” không phải giờ (ghi theo HH:MM)") % {"value": time_part}
            ) from exc
    return dt.datetime.combine(day, clock, tz)
