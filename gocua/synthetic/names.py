"""Vietnamese names, phone numbers and addresses for synthetic people.

Faker's vi_VN lists are the base; Faker's `name()` is not used because it puts the given name
first ("Lan Nguyễn"), while Vietnamese order is family + middle + given ("Nguyễn Thị Lan").
Its family-name list has no Huỳnh, Võ, Phan or Ngô (very common in the South), so the family
names carry their approximate national frequencies and Faker's extra names get a small weight.
Every draw takes an explicit `random.Random`, so a seed fixes every name.
"""

import random
import unicodedata
from itertools import accumulate

from faker.providers.address.vi_VN import Provider as AddressProvider
from faker.providers.person.vi_VN import Provider as PersonProvider

from gocua.lib.phone import MOBILE_PREFIXES


def _nfc(items) -> tuple[str, ...]:
    """NFC, without duplicates, in first-seen order (never a set: its order is not stable)."""
    return tuple(dict.fromkeys(unicodedata.normalize("NFC", s) for s in items))


# Approximate shares of Vietnamese family names (per cent).
_FAMILY_WEIGHTS = {
    "Nguyễn": 38.0,
    "Trần": 11.0,
    "Lê": 9.5,
    "Phạm": 7.0,
    "Huỳnh": 5.1,
    "Hoàng": 2.0,
    "Phan": 4.5,
    "Võ": 3.9,
    "Vũ": 1.5,
    "Đặng": 2.1,
    "Bùi": 2.0,
    "Đỗ": 1.4,
    "Hồ": 1.3,
    "Ngô": 1.3,
    "Dương": 1.0,
    "Lý": 0.5,
    "Trương": 0.8,
    "Đinh": 0.6,
    "Lâm": 0.4,
    "Mai": 0.4,
}
FAMILY_NAMES = _nfc([*_FAMILY_WEIGHTS, *PersonProvider.last_names])
_FAMILY_CUM = list(accumulate(_FAMILY_WEIGHTS.get(n, 0.3) for n in FAMILY_NAMES))

# Given names: Faker's lists, plus common ones it lacks (so a commune is not all "Nam" and "Lan").
MALE_GIVEN = _nfc(
    [
        *PersonProvider.first_names_male,
        *PersonProvider.first_names_unisex,
        "Tuấn",
        "Hiếu",
        "Long",
        "Phong",
        "Thắng",
        "Sơn",
        "Tâm",
        "Lộc",
        "Tài",
        "Đạt",
        "Khang",
        "Nghĩa",
        "Thịnh",
        "Hùng",
        "Cường",
        "Tín",
        "Trí",
        "Kiệt",
        "Duy",
        "Vinh",
    ]
)
FEMALE_GIVEN = _nfc(
    [
        *PersonProvider.first_names_female,
        *PersonProvider.first_names_unisex,
        "Trang",
        "Hằng",
        "Nhung",
        "Thủy",
        "Loan",
        "Tuyết",
        "Diễm",
        "Nhi",
        "Trinh",
        "Hoa",
        "Thu",
        "Vy",
        "Giang",
        "My",
        "Quyên",
        "Oanh",
        "Nga",
        "Huyền",
        "Tiên",
        "Hạnh",
    ]
)
# Middle names: "Văn" and "Thị" dominate older generations; Faker's list mixes both sexes.
_FEMALE_ONLY_MIDDLE = {"Thị", "Mai", "Mai Bảo"}
MALE_MIDDLE = _nfc(
    [m for m in PersonProvider.middle_names if m not in _FEMALE_ONLY_MIDDLE]
    + ["Minh", "Quốc", "Thanh", "Gia", "Công", "Ngọc"]
)
FEMALE_MIDDLE = _nfc(
    [
        "Ngọc",
        "Thanh",
        "Thu",
        "Kim",
        "Bảo",
        "Mai",
        "Phương",
        "Minh",
        "Khánh",
        "Xuân",
        "Hồng",
        "Mỹ",
        "Thùy",
    ]
)
STREETS = _nfc(AddressProvider.streets)


def family_name(rng: random.Random) -> str:
    return rng.choices(FAMILY_NAMES, cum_weights=_FAMILY_CUM)[0]


def full_name(rng: random.Random, *, family: str, sex: str, birth_year: int) -> str:
    """'Nguyễn Thị Lan': family + middle + given, NFC."""
    old = birth_year < 1980
    if sex == "M":
        middle = "Văn" if rng.random() < (0.7 if old else 0.3) else rng.choice(MALE_MIDDLE)
        given = rng.choice(MALE_GIVEN)
    else:
        middle = "Thị" if rng.random() < (0.85 if old else 0.4) else rng.choice(FEMALE_MIDDLE)
        given = rng.choice(FEMALE_GIVEN)
    if middle == family or given in (family, middle):  # "Hoàng Hoàng …" reads like a typo
        middle = "Văn" if sex == "M" else "Thị"
        given = given if given not in (family, middle) else ("Minh" if sex == "M" else "Hà")
    return f"{family} {middle} {given}"


# Mobile prefixes by network, with rough market shares; each must be a known prefix.
_NETWORKS = (
    (55, "032 033 034 035 036 037 038 039 086 096 097 098"),  # Viettel
    (24, "081 082 083 084 085 088 091 094"),  # VinaPhone
    (16, "070 076 077 078 079 089 090 093"),  # MobiFone
    (3, "052 056 058 092"),  # Vietnamobile
    (1, "059 099"),  # Gmobile
    (1, "087"),  # Itel
)
PREFIXES: tuple[str, ...] = ()
_PREFIX_CUM: list[float] = []
for _share, _codes in _NETWORKS:
    _list = _codes.split()
    PREFIXES += tuple(_list)
    _PREFIX_CUM += [(_PREFIX_CUM[-1] if _PREFIX_CUM else 0) + _share / len(_list) for _ in _list]
assert set(PREFIXES) <= MOBILE_PREFIXES, "a synthetic phone prefix is not a mobile prefix"


def phone(rng: random.Random) -> str:
    """A 10-digit mobile number with a real prefix."""
    prefix = rng.choices(PREFIXES, cum_weights=_PREFIX_CUM)[0]
    return f"{prefix}{rng.randrange(10_000_000):07d}"
