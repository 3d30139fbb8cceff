"""Walking order: the one sort key of a household, stored when the household is written.

A team walks a hamlet street by street, house by house. Addresses are text ("Số 39", "Số 4",
"Số 40"), so sorting them as text sends a volunteer back and forth. The key orders households
by commune, then hamlet (natural order: "Ấp 2" before "Ấp 10"), then street, then house number
in natural order ("4" < "4A" < "10" < "12/3" < "12/3A" < "39"); a household with no number
comes last in its street, one with no address at all last in its hamlet.

The key is plain text compared byte by byte (see `BytewiseCharField`): fields are joined by a
space, which sorts below every character a field may hold (`.`, `/`, digits, letters), so a
shorter street comes before a longer one that starts with it; a number is written as its
digit count then its digits, so "9" (`19`) sorts before "10" (`210`). Every write path calls
`household_walk_key`: ORM saves (`Household.save`), the citizens import's fast path, the
generator and the migration that filled the existing rows.
"""

import re
from functools import lru_cache
from typing import cast

from natsort import natsort_keygen

from gocua.lib.text import bare

_natural_tokens = natsort_keygen()  # "12/3a" → ('', 12, '/', 3, 'a')

SEPARATOR = " "
NO_NUMBER = "~"  # above every character of a number: last in its street
NOT_IN_A_HAMLET = "~"  # households filed directly under the commune: after its hamlets
MAX_LENGTH = 255

# Parts after the first that name the hamlet or a unit above it (already in the key) are
# dropped: "Số 4 đường Lê Lợi, Khu phố 1, P. 3". The first part is the house's own, even when
# it reads like one ("Xa lộ Hà Nội").
_UNIT_PART = re.compile(
    r"^(ap|khu pho|kp|thon|xom|buon|phum|soc|khom|to dan pho|tdp|xa|phuong|p|thi tran|tt"
    r"|quan|q|huyen|h|thi xa|tx|thanh pho|tp|tinh)\b"
)
_NUMBER = r"\d+[a-z]?(?:/\d+[a-z]?)*"
# "Số 4", "số nhà 12/3A", "SN 7", or a bare "4A" at the start of a part.
_HOUSE = re.compile(rf"^(?:so nha|nha so|so|sn)?\s*({_NUMBER})(?![\w])\s*")
# An alley (hẻm, ngõ, kiệt, ngách) opens off a house number: "5 hẻm 7 Lê Lợi" is the house 5
# of the alley at number 7 of Lê Lợi, walked like "7/5 Lê Lợi".
_ALLEY = re.compile(rf"^(?:hem|ngo|kiet|ngach)\s*({_NUMBER})(?![\w])\s*")
# A tổ (group of houses) is walked as a street of its own: "Số 12, tổ 3" is on "tổ 3".
_GROUP = re.compile(r"^(to)\s*(\d+[a-z]?)(?![\w])\s*")
_STREET_WORD = re.compile(r"^(?:duong|d\.|pho)\s+")
_NOT_KEY_TEXT = re.compile(r"[^a-z0-9/]+")


def plain(text: str) -> str:
    """Lower case without diacritics (đ → d), for parsing and sorting, keeping '/'."""
    return bare(text).lower().strip()


@lru_cache(maxsize=16384)  # street names repeat on every household of the street
def natural(text: str) -> str:
    """`text` as a natural-order field of the key: plain letters, '.' for a space, each digit
    run as its length then its digits ('Ấp 10' → 'ap.210')."""
    cleaned = " ".join(_NOT_KEY_TEXT.sub(" ", plain(text)).split())
    out = []
    for token in _natural_tokens(cleaned):
        if type(token) is int:
            digits = str(token)[:9]
            out.append(f"{len(digits)}{digits}")
        else:  # natsort's other tokens are the text between the numbers
            out.append(cast(str, token).replace(" ", "."))
    return "".join(out)


class Address:
    """An address split into the street it is walked along and the house number on it."""

    __slots__ = ("street", "number")

    def __init__(self, street: str, number: str) -> None:
        self.street = street
        self.number = number

    def __repr__(self) -> str:
        return f"Address(street={self.street!r}, number={self.number!r})"


def address_parse(address: str, *, hamlet_name: str = "") -> Address:
    """Street and house number of an address as offices and the generator write them:
    '38 Nguyễn Văn Linh', 'Số 4 đường Lê Lợi, Khu phố 1', 'Số 12, tổ 3, Ấp 2', '12/3A Trần
    Hưng Đạo', '5 hẻm 7 Lê Lợi', 'Tổ 5', 'Hẻm 7', or no number at all. Both parts plain text
    (lower case, no diacritics); '' when absent."""
    hamlet = plain(hamlet_name)
    number = alley = group = ""
    streets: list[str] = []
    for index, part in enumerate(plain(address).split(",")):
        part = " ".join(part.split())
        if not part or part == hamlet or (index and _UNIT_PART.match(part)):
            continue
        while part:
            if not number and (found := _HOUSE.match(part)):
                number = found.group(1)
            elif not alley and (found := _ALLEY.match(part)):
                alley = found.group(1)
            elif not group and (found := _GROUP.match(part)):
                group = f"to {found.group(2)}"
            elif found := _STREET_WORD.match(part):
                pass
            else:
                streets.append(part)
                break
            part = part[found.end() :]
    street = " ".join([*streets, group]).strip()
    if alley:
        number = f"{alley}/{number}" if number else alley
    return Address(street, number)


@lru_cache(maxsize=4096)  # a commune's hamlets repeat on every household
def _unit_fields(unit_path: str, unit_name: str, is_hamlet: bool) -> str:
    if is_hamlet:
        commune_path = unit_path.rstrip("/").rsplit("/", 1)[0] + "/"
        return f"{commune_path}{SEPARATOR}{natural(unit_name) or NOT_IN_A_HAMLET}"
    return f"{unit_path}{SEPARATOR}{NOT_IN_A_HAMLET}"


def household_walk_key(*, address: str, unit_path: str, unit_name: str, is_hamlet: bool) -> str:
    """The stored walking-order key of a household at `address` in the unit (hamlet or
    commune) with this materialised path and name."""
    unit = _unit_fields(unit_path, unit_name, is_hamlet)
    if not address.strip():
        return f"{unit}{SEPARATOR}{NO_NUMBER}{SEPARATOR}{NO_NUMBER}"
    parsed = address_parse(address, hamlet_name=unit_name if is_hamlet else "")
    number = natural(parsed.number) if parsed.number else NO_NUMBER
    key = f"{unit}{SEPARATOR}{natural(parsed.street)}{SEPARATOR}{number}"
    return key[:MAX_LENGTH]


def walk_key_for(address: str, unit) -> str:
    """`household_walk_key` for a household of `unit` (an AdminUnit)."""
    return household_walk_key(
        address=address,
        unit_path=unit.path,
        unit_name=unit.name,
        is_hamlet=unit.level == "hamlet",
    )


def without_household_key(*, unit_path: str, unit_name: str, is_hamlet: bool) -> str:
    """Where the residents of a unit who belong to no household are listed: after every
    household of that unit (after "~ ~", the households with no address), before the next
    unit."""
    return f"{_unit_fields(unit_path, unit_name, is_hamlet)}{SEPARATOR}{NO_NUMBER}{NO_NUMBER}"
