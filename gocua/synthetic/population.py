"""Synthetic people: how many live in each commune, their hamlets, households and flags.

Pure functions over a `random.Random`; nothing here touches the database, so the same seed
always gives the same people.
"""

import bisect
import datetime as dt
import math
import random
import zlib
from dataclasses import dataclass, field
from itertools import accumulate

from gocua.geo.models import AdminUnit
from gocua.lib import nid as nid_lib
from gocua.people.funnel import ELDERLY_AGE, age_on, eligibility_cutoff
from gocua.synthetic import names

MAX_AGE = 100

# Vietnam's population by 5-year age group (GSO, 2023, per cent), 0–4 … 95–99.
_PYRAMID = (
    7.4,
    8.0,
    8.3,
    7.2,
    6.7,
    7.3,
    8.3,
    8.2,
    7.6,
    6.8,
    6.1,
    5.4,
    4.6,
    3.5,
    2.3,
    1.4,
    0.9,
    0.6,
    0.3,
    0.1,
)
_AGE_CUM = [0.0, *accumulate(_PYRAMID[age // 5] / 5 for age in range(MAX_AGE))]

# Household sizes (persons: share); the mean is about 3.5, as in the 2019 census for the South.
_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
_SIZE_CUM = list(accumulate((9, 19, 23, 25, 13, 7, 3, 1)))


def draw_age(rng: random.Random, lo: int = 0, hi: int = MAX_AGE - 1) -> int:
    """An age in [lo, hi] with the pyramid's weights (one bisect, no per-call table)."""
    lo, hi = max(lo, 0), min(hi, MAX_AGE - 1)
    if lo >= hi:
        return lo
    u = rng.uniform(_AGE_CUM[lo], _AGE_CUM[hi + 1])
    return min(max(bisect.bisect_right(_AGE_CUM, u) - 1, lo), hi)


def gumbel(rng: random.Random) -> float:
    return -math.log(-math.log(rng.random() or 1e-12))


@dataclass(slots=True)
class CommunePlan:
    """What the province-level draw decides for one commune before its people exist."""

    unit: AdminUnit
    district: AdminUnit | None
    people: int
    effect: float  # > 0: a commune that leads the campaign, < 0: one that lags
    hamlets: int
    hamlet_kind: str  # "Ấp" or "Khu phố"


@dataclass(slots=True, eq=False)
class Person:
    id: int
    household: "Home"
    national_id: str
    full_name: str
    birth_date: dt.date
    birth_year_only: bool
    sex: str
    age: int
    phone: str = ""
    own_phone: bool = False
    sim_not_owned: bool = False  # SIM registered to someone else: activation needs one's own
    elderly: bool = False
    disabled: bool = False
    no_smartphone: bool = False
    away: bool = False
    moved_out: bool = False
    deceased: bool = False
    needs_id_card: bool = False
    eligible: bool = False  # on the last day of the window
    first_day: int = 1  # first window day on which the person is old enough (1 = before)
    earliest: int | None = None  # earliest day before the window with a stage (None: too young)
    # History, filled by history.py: (t, from_stage, to_stage, from_level, to_level, source)
    events: list = field(default_factory=list)
    stage: str = "none"
    level: int = 0
    stage_at: int | None = None
    last_used_at: int | None = None


@dataclass(slots=True, eq=False)
class Home:
    id: int
    hamlet: AdminUnit
    code: str
    address: str
    lat: float | None
    lon: float | None
    members: list = field(default_factory=list)


def commune_plans(
    rng: random.Random,
    *,
    communes: list[AdminUnit],
    districts: dict[int, AdminUnit],
    people: int,
) -> list[CommunePlan]:
    """Split `people` over the communes by a skewed weight (area when the edition has it,
    times a log-normal draw; wards denser), with a lead/lag effect per commune that is
    partly shared by the district, centred so the province keeps the target shape."""
    weights = []
    for unit in communes:
        base = math.sqrt(unit.area_km2) if unit.area_km2 else 4.0
        if unit.kind == "Phường":
            base *= 1.6
        elif unit.kind == "Thị trấn":
            base *= 1.3
        weights.append(base * rng.lognormvariate(0.0, 0.55))
    counts = _apportion(people, weights)
    # By the commune's parent id (a commune without a district has none).
    district_effect: dict[int | None, float] = {key: rng.gauss(0, 1) for key in sorted(districts)}
    raw = [
        0.6 * district_effect.get(unit.parent_id, 0.0) + 0.8 * rng.gauss(0, 1) for unit in communes
    ]
    total = sum(counts) or 1
    mean = sum(c * e for c, e in zip(counts, raw, strict=True)) / total
    spread = math.sqrt(sum(c * (e - mean) ** 2 for c, e in zip(counts, raw, strict=True)) / total)
    spread = spread or 1.0
    mean_weight = sum(weights) / len(weights)
    plans = []
    for unit, count, weight, effect in zip(communes, counts, weights, raw, strict=True):
        hamlets = round(8 * (weight / mean_weight) ** 0.6 + rng.uniform(-1.5, 1.5))
        plans.append(
            CommunePlan(
                unit=unit,
                district=districts.get(unit.parent_id) if unit.parent_id is not None else None,
                people=count,
                effect=max(-2.5, min(2.5, (effect - mean) / spread)),
                hamlets=max(5, min(20, hamlets)),
                hamlet_kind="Khu phố" if unit.kind == "Phường" else "Ấp",
            )
        )
    return plans


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of `total` in proportion to `weights` (ties by position)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class NationalIds:
    """Unique, valid national IDs: serials per (province, sex/century digit, birth year),
    spread over the 6-digit range by a fixed stride so they do not look sequential. The
    2025 edition starts half-way through the range, so a database holding both editions'
    synthetic provinces still has unique IDs (until 500,000 people share one bucket)."""

    STRIDE = 618_033  # coprime with 10**6, so k → k·STRIDE mod 10**6 never repeats

    def __init__(self, *, edition: int) -> None:
        self.base = 0 if edition == 2023 else 500_000
        self.used: dict[tuple[str, int, str], int] = {}

    def make(self, *, province: str, sex: str, birth_year: int) -> str:
        bucket = (province, birth_year, sex)
        k = self.used.get(bucket, 0)
        self.used[bucket] = k + 1
        # A stable per-bucket start, so the first person of every bucket does not share one
        # serial (masked IDs would all end alike); still one-to-one within the bucket.
        start = zlib.crc32(f"{province}{birth_year}{sex}".encode()) % 1_000_000
        serial = (start + (self.base + k) * self.STRIDE) % 1_000_000
        return nid_lib.make(province_code=province, sex=sex, birth_year=birth_year, serial=serial)


@dataclass
class PeopleContext:
    """What every commune's people draw needs from the province."""

    today: dt.date
    start: dt.date  # the window's first day
    edition: int
    min_age: int
    province_code: str  # 3 digits, as national IDs write it
    other_provinces: tuple[str, ...]
    nids: NationalIds
    households: int = 0  # running count, for household codes


def hamlet_names(plan: CommunePlan) -> list[str]:
    return [f"{plan.hamlet_kind} {n}" for n in range(1, plan.hamlets + 1)]


def commune_people(
    rng: random.Random,
    *,
    plan: CommunePlan,
    hamlets: list[AdminUnit],
    ctx: PeopleContext,
    next_household_id,
    next_resident_id,
) -> list[Home]:
    """The households of one commune with their members and flags, in address order."""
    unit = plan.unit
    lag = math.exp(-0.35 * plan.effect)  # lagging communes: more people away, fewer phones
    area = unit.area_km2 or (5.0 if unit.kind == "Phường" else 35.0)
    spread = math.sqrt(area) / 111.0 / 2.5  # degrees; ~ the commune's radius
    hamlet_weights = list(accumulate(rng.lognormvariate(0, 0.4) for _ in hamlets))
    centres = [
        (unit.lat + rng.gauss(0, spread), unit.lon + rng.gauss(0, spread))
        if unit.lat is not None and unit.lon is not None
        else (None, None)
        for _ in hamlets
    ]
    streets = [rng.sample(names.STREETS, 3) for _ in hamlets]
    cutoff_today = eligibility_cutoff(ctx.today, ctx.min_age)

    sizes = _household_sizes(rng, plan.people, hamlet_weights)

    homes: list[Home] = []
    number = [0] * len(hamlets)
    for index, size in sizes:
        hamlet = hamlets[index]
        number[index] += rng.randint(1, 4)
        if plan.hamlet_kind == "Khu phố":
            address = f"Số {number[index]} đường {rng.choice(streets[index])}, {hamlet.name}"
        else:
            address = f"Số {number[index]}, tổ {1 + number[index] // 60}, {hamlet.name}"
        lat, lon = centres[index]
        if lat is not None and lon is not None:  # both, or neither (a commune not placed)
            lat, lon = (
                round(lat + rng.gauss(0, spread / 5), 6),
                round(lon + rng.gauss(0, spread / 5), 6),
            )
        ctx.households += 1
        home = Home(
            id=next_household_id(),
            hamlet=hamlet,
            address=address,
            lat=lat,
            lon=lon,
            code=f"{ctx.edition}{ctx.province_code}{ctx.households:08d}",
        )
        _members(rng, home, size, ctx, lag, next_resident_id)
        for person in home.members:
            _eligibility_set(person, ctx, cutoff_today)
        homes.append(home)
    return homes


def _household_sizes(
    rng: random.Random, people: int, hamlet_weights: list[float]
) -> list[list[int]]:
    """[hamlet index, size] of households that add up to `people`, by hamlet."""
    sizes: list[list[int]] = []
    total = 0
    while total < people:
        size = rng.choices(_SIZES, cum_weights=_SIZE_CUM)[0]
        total += size
        sizes.append([rng.choices(range(len(hamlet_weights)), cum_weights=hamlet_weights)[0], size])
    # Take the overshoot from random households of two or more (cutting the last one short
    # would bias small communes towards small households).
    while total > people:
        item = sizes[rng.randrange(len(sizes))]
        if item[1] > 1 or all(s == 1 for _, s in sizes):
            item[1] -= 1
            total -= 1
    sizes = [item for item in sizes if item[1] > 0]
    sizes.sort(key=lambda item: item[0])  # stable: households keep their draw order in a hamlet
    return sizes


def _eligibility_set(person: "Person", ctx: PeopleContext, cutoff_today: dt.date) -> None:
    # Eligible as the KPI counts it on the last day (reports.selectors).
    person.eligible = (
        not person.deceased and not person.moved_out and person.birth_date <= cutoff_today
    )
    # Day 1 is offset 0: someone old enough only from offset o may move from day o+1,
    # and had a stage before the window only if o < 0 (at most 600 days back).
    offset = (_add_years(person.birth_date, ctx.min_age) - ctx.start).days
    person.first_day = max(1, offset + 1)
    person.earliest = max(-600, offset) if offset <= -1 else None


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _members(rng, home: Home, size: int, ctx: PeopleContext, lag: float, next_id) -> None:
    """Ages, sexes and family names by role: a couple with children, a widow alone, three
    generations under one roof..."""
    roles: list[tuple[int, str, str]] = []  # (age, sex, family name)
    father_family = names.family_name(rng)
    if size == 1:
        age = draw_age(rng, 60, 95) if rng.random() < 0.5 else draw_age(rng, 20, 59)
        roles.append((age, "F" if rng.random() < 0.55 else "M", father_family))
    elif size == 2 and rng.random() < 0.25:
        parent = draw_age(rng, 38, 85)
        sex = "F" if rng.random() < 0.6 else "M"
        roles.append((parent, sex, father_family if sex == "M" else names.family_name(rng)))
        roles.append((draw_age(rng, max(0, parent - 42), parent - 18), _sex(rng), father_family))
    else:
        if size == 2:
            head = draw_age(rng, 55, 90) if rng.random() < 0.5 else draw_age(rng, 22, 54)
        else:
            head = draw_age(rng, 25, 62)
        wife = max(18, head - rng.randint(0, 6))
        roles.append((head, "M", father_family))
        roles.append((wife, "F", names.family_name(rng)))
        children = size - 2
        elders = 0
        if size >= 3 and head <= 60 and rng.random() < (0.25 if size <= 4 else 0.7):
            elders = 2 if size >= 5 and rng.random() < 0.4 else 1
        for i in range(elders):
            elder = min(MAX_AGE - 1, head + rng.randint(22, 34))
            sex = "M" if i == 0 and rng.random() < 0.45 else "F"
            roles.append((elder, sex, father_family if sex == "M" else names.family_name(rng)))
        for _ in range(children - elders):
            roles.append((draw_age(rng, 0, min(head - 19, 32)), _sex(rng), father_family))
        if rng.random() < 0.3:  # the wife heads the household
            roles[0], roles[1] = roles[1], roles[0]

    shared_from = None
    for age, sex, family in roles:
        person = _person(rng, home, age, sex, family, ctx, lag, next_id)
        home.members.append(person)
        if person.own_phone and shared_from is None:
            shared_from = person.phone
    # Some people give a relative's number (an elderly parent, a teenager): shared phones.
    for person in home.members:
        if person.phone == "SHARED":
            person.phone = shared_from or ""


def _sex(rng: random.Random) -> str:
    return "M" if rng.random() < 0.51 else "F"


def _person(rng, home, age, sex, family, ctx: PeopleContext, lag, next_id) -> Person:
    today = ctx.today
    anchor = dt.date(today.year - age, today.month, min(today.day, 28))
    born = anchor - dt.timedelta(days=rng.randrange(365))
    year_only = age >= 70 and rng.random() < 0.35
    if year_only:
        born = dt.date(born.year, 1, 1)  # a year alone, as the elderly's papers often have it
    age = age_on(born, today)
    if rng.random() < (0.97 if age < 14 else 0.88):
        province = ctx.province_code
    else:
        province = rng.choice(ctx.other_provinces)
    national_id = ctx.nids.make(province=province, sex=sex, birth_year=born.year)
    person = Person(
        id=next_id(),
        household=home,
        national_id=national_id,
        full_name=names.full_name(rng, family=family, sex=sex, birth_year=born.year),
        birth_date=born,
        birth_year_only=year_only,
        sex=sex,
        age=age,
        elderly=age >= ELDERLY_AGE,
    )
    if age < 14:
        return person
    r = rng.random
    if age >= 75:
        person.no_smartphone = r() < min(0.95, 0.62 * lag)
        person.disabled = r() < 0.07
        person.deceased = r() < 0.012
    elif age >= 60:
        person.no_smartphone = r() < min(0.9, 0.3 * lag)
        person.disabled = r() < 0.025
        person.deceased = r() < 0.003
    elif age >= 45:
        person.no_smartphone = r() < 0.07 * lag
        person.disabled = r() < 0.012
    else:
        person.no_smartphone = r() < 0.02 * lag
        person.disabled = r() < 0.006
    if 18 <= age <= 45:
        person.away = r() < 0.11 * lag
        person.moved_out = r() < 0.008
    elif 46 <= age <= 59:
        person.away = r() < 0.04 * lag
    _phone_set(rng, person, age, lag)
    return person


def _phone_set(rng: random.Random, person: Person, age: int, lag: float) -> None:
    """A smartphone owner almost always gives a number; others a relative's, or none."""
    r = rng.random
    draw = r()
    if person.no_smartphone:
        kind = "own" if draw < 0.45 else "shared" if draw < 0.8 else "none"
    elif age < 18:
        kind = "own" if draw < 0.55 else "shared" if draw < 0.85 else "none"
    else:
        kind = "own" if draw < 0.93 else "shared" if draw < 0.96 else "none"
    if kind == "own":
        person.phone = names.phone(rng)
        person.own_phone = True
        person.sim_not_owned = r() < min(0.5, 0.07 * lag)
    elif kind == "shared":
        person.phone = "SHARED"
