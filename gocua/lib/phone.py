"""Vietnamese mobile numbers, stored as 10 digits `0xxxxxxxxx`."""

import re

from django.utils.translation import gettext as _

# Mobile prefixes in use after the 2018 renumbering (Viettel, MobiFone, VinaPhone,
# Vietnamobile, Gmobile, Itel, Reddi, and the MVNOs on 087x/089x).
MOBILE_PREFIXES = frozenset(
    "032 033 034 035 036 037 038 039 086 096 097 098 "
    "070 076 077 078 079 089 090 093 "
    "081 082 083 084 085 088 091 094 "
    "052 056 058 092 "
    "059 099 "
    "087 "
    "055".split()
)

_SEPARATORS = re.compile(r"[\s.\-()]")


class PhoneError(ValueError):
    pass


def normalize(raw: object) -> str:
    """'+84 912.345.678' → '0912345678'. Empty input gives ''. Raises PhoneError."""
    if raw is None:
        return ""
    if type(raw) is str and len(raw) == 10 and raw[0] == "0" and raw.isdigit() and raw.isascii():
        # The usual cell, already clean: the rules below would leave it as it is.
        if raw[:3] not in MOBILE_PREFIXES:
            raise PhoneError(_prefix_unknown(raw[:3]))
        return raw
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    # A leading apostrophe is how a spreadsheet keeps "+84 ..." from being read as a formula.
    text = _SEPARATORS.sub("", str(raw).strip().removeprefix("'"))
    if not text:
        return ""
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("84") and len(text) == 11:
        text = "0" + text[2:]
    elif len(text) == 9 and not text.startswith("0"):
        text = "0" + text  # a number cell in Excel drops the leading zero
    if not text.isdigit() or not text.isascii():
        raise PhoneError(_("không phải số điện thoại"))
    if len(text) != 10:
        raise PhoneError(_("có %(count)s chữ số, số di động phải có 10") % {"count": len(text)})
    if text[:3] not in MOBILE_PREFIXES:
        raise PhoneError(_prefix_unknown(text[:3]))
    return text


def _prefix_unknown(prefix: str) -> str:
    return _("đầu số %(prefix)s không phải đầu số di động Việt Nam") % {"prefix": prefix}


def mask(phone: str) -> str:
    """'09*****123'."""
    if not phone:
        return ""
    return phone[:2] + "*" * (len(phone) - 5) + phone[-3:]
