"""The 12-digit personal identification number (số định danh cá nhân / số CCCD).

Layout (Circular 07/2016/TT-BCA): 3 digits province of birth registration, 1 digit sex and
century, 2 digits of the birth year, 6 random digits.
"""

from functools import cache

from django.utils.translation import gettext as _

from gocua.lib.adminunits import query


class NationalIdError(ValueError):
    """The number breaks one of the rules; the message says which."""


@cache
def province_codes() -> frozenset[str]:
    """The 63 province codes of the 2023 edition (001–096), from `vietnamadminunits`."""
    rows = query("SELECT DISTINCT provinceCode FROM admin_units_legacy")
    return frozenset(r["provinceCode"].zfill(3) for r in rows)


def normalize(raw: object) -> str:
    """Return the 12-digit string, restoring the leading zeros an Excel number cell drops."""
    if type(raw) is str and len(raw) == 12 and raw.isdigit() and raw.isascii():
        # The usual cell, already clean: the rules below would leave it as it is.
        if raw[:3] not in province_codes():
            raise NationalIdError(_province_unknown(raw[:3]))
        return raw
    if isinstance(raw, float):
        if not raw.is_integer():
            raise NationalIdError(_("không phải số nguyên"))
        raw = int(raw)
    text = str(raw).strip().replace(" ", "").replace(".", "") if raw is not None else ""
    if text.startswith("'"):
        text = text[1:]
    if not text:
        raise NationalIdError(_("bị trống"))
    if not text.isdigit() or not text.isascii():
        raise NationalIdError(_("chỉ được gồm chữ số"))
    if len(text) > 12:
        raise NationalIdError(_length_wrong(len(text)))
    if len(text) < 12:
        # Every province code starts with 0, so an ID stored as a number lost one zero
        # (or two for 001–009). Anything shorter than 10 digits is not such a number.
        if len(text) < 10:
            raise NationalIdError(_length_wrong(len(text)))
        text = text.zfill(12)
    if text[:3] not in province_codes():
        raise NationalIdError(_province_unknown(text[:3]))
    return text


def _province_unknown(code: str) -> str:
    return _("mã tỉnh %(code)s không tồn tại") % {"code": code}


def _length_wrong(digits: int) -> str:
    return _("có %(count)s chữ số, phải đủ 12") % {"count": digits}


def century_and_sex(nid: str) -> tuple[int, str]:
    """(first year of the century, 'M' or 'F') encoded by the 4th digit."""
    digit = int(nid[3])
    return 1900 + 100 * (digit // 2), "M" if digit % 2 == 0 else "F"


def birth_year_of(nid: str) -> int:
    century, _sex = century_and_sex(nid)
    return century + int(nid[4:6])


@cache
def digits_for(birth_year: int, sex: str) -> str:
    """The 4th–6th digits (sex and century, year) of a number for someone born in `birth_year`
    of `sex` 'M' or 'F': `check_against` passes exactly when a number has these, so an import
    compares three characters and asks it only to word a refusal."""
    return f"{2 * ((birth_year - 1900) // 100) + (sex == 'F')}{birth_year % 100:02d}"


def check_against(nid: str, *, birth_year: int | None, sex: str | None) -> None:
    """Raise when the ID's sex/century digit or year digits disagree with the person."""
    century, id_sex = century_and_sex(nid)
    if sex and sex != id_sex:
        message = (
            _("chữ số thứ 4 (%(digit)s) là của nam, nhưng dòng ghi giới tính nữ")
            if id_sex == "M"
            else _("chữ số thứ 4 (%(digit)s) là của nữ, nhưng dòng ghi giới tính nam")
        )
        raise NationalIdError(message % {"digit": nid[3]})
    if birth_year is not None:
        if not century <= birth_year < century + 100:
            raise NationalIdError(
                _(
                    "chữ số thứ 4 (%(digit)s) là của người sinh %(first)s–%(last)s, không phải %(year)s"
                )
                % {"digit": nid[3], "first": century, "last": century + 99, "year": birth_year}
            )
        if int(nid[4:6]) != birth_year % 100:
            raise NationalIdError(
                _("chữ số thứ 5–6 (%(digits)s) không khớp năm sinh %(year)s")
                % {"digits": nid[4:6], "year": birth_year}
            )


def mask(nid: str) -> str:
    """'072******891': province code and last three digits only."""
    if not nid:
        return ""
    if len(nid) < 7:
        return "*" * len(nid)
    return nid[:3] + "*" * (len(nid) - 6) + nid[-3:]


def make(*, province_code: str, sex: str, birth_year: int, serial: int) -> str:
    """Build a valid number (for synthetic data): province, sex/century digit, year, serial."""
    century_digit = 2 * ((birth_year - 1900) // 100) + (1 if sex == "F" else 0)
    return f"{province_code.zfill(3)}{century_digit}{birth_year % 100:02d}{serial % 1_000_000:06d}"
