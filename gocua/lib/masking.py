"""Keeping national IDs and phone numbers out of logs."""

import logging
import re

from gocua.lib.nid import mask as mask_nid
from gocua.lib.phone import mask as mask_phone

_NID = re.compile(r"(?<!\d)\d{12}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+84|84|0)\d{9}(?!\d)")


def scrub(text: str) -> str:
    """Mask anything shaped like a national ID or a mobile number."""
    text = _NID.sub(lambda m: mask_nid(m.group()), text)
    return _PHONE.sub(lambda m: mask_phone(m.group()), text)


class PersonalDataFilter(logging.Filter):
    """Rewrites every log record so no national ID or phone leaves the process in clear."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
