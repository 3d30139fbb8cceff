"""The funnel's rules, defined once: the order of the stages, which stages each KPI counts, who
is eligible and elderly, and the eID level a row that leaves it blank gets.

Everything that compares, counts or defaults a stage reads it from here (fieldwork's claims,
the rollups and KPI rows, the imports, the generator), so they cannot drift apart.
"""

import datetime as dt

from django.utils.translation import gettext_lazy

from gocua.campaigns.models import DEFAULT_MIN_AGE
from gocua.people.models import Stage

__all__ = ["DEFAULT_MIN_AGE"]  # the campaign's default, named with the funnel's other rules

# Funnel order (docs/design.md, "The funnel"): none → registered → approved → activated → used.
# `failed` branches off `registered` and ranks with it: the dossier was received, it did not
# pass. A stage "reaches" another when its rank is at least the other's.
RANK: dict[str, int] = {
    Stage.NONE.value: 0,
    Stage.REGISTERED.value: 1,
    Stage.FAILED.value: 1,
    Stage.APPROVED.value: 2,
    Stage.ACTIVATED.value: 3,
    Stage.USED.value: 4,
}

# How the rollup tables store a stage (reports.ResidentSnapshot.stage, and the stage's index in
# a count vector, in the order of reports.models.STOCK_COLUMNS). Stored data: never renumber.
STAGE_CODES: dict[str, int] = {
    Stage.NONE.value: 0,
    Stage.REGISTERED.value: 1,
    Stage.APPROVED.value: 2,
    Stage.FAILED.value: 3,
    Stage.ACTIVATED.value: 4,
    Stage.USED.value: 5,
}
STAGE_NAMES: dict[int, str] = {code: name for name, code in STAGE_CODES.items()}
# The rank of a stage stored as its code (the rollups compare codes).
RANK_BY_CODE: dict[int, int] = {code: RANK[name] for name, code in STAGE_CODES.items()}


def stages_at_least(stage: str) -> tuple[str, ...]:
    """The stages that reach `stage` (for `eid_stage__in`), in the order of Stage."""
    return tuple(name for name in Stage.values if RANK[name] >= RANK[stage])


# What each KPI counts (docs/design.md, "KPIs"): registered = received dossiers (registered,
# approved, failed, activated, used); activated = activated + used; used.
REGISTERED_STAGES: tuple[str, ...] = stages_at_least(Stage.REGISTERED)
ACTIVATED_STAGES: tuple[str, ...] = stages_at_least(Stage.ACTIVATED)
USED_STAGES: tuple[str, ...] = stages_at_least(Stage.USED)

# Eligible residents are aged `campaign.min_age` or more on the day counted (docs/design.md).
# Its default, DEFAULT_MIN_AGE (14), is the campaign's field default, defined with the campaign
# and imported here with the funnel's other rules; it is also the age counted without a
# current campaign.

# Elderly (the `elderly` flag, home support): 60 or more, the Law on the Elderly 2009, art. 2.
ELDERLY_AGE = 60

# The level-2 account exists from approval on (docs/design.md: `approved` = account created,
# SMS sent). A level-1 app account is not a level-2 registration, so a received or failed
# dossier says nothing about the level.
LEVEL_2_STAGES: tuple[str, ...] = stages_at_least(Stage.APPROVED)


def eid_level_for(stage: str, level: int | None, known_level: int = 0) -> int:
    """The eID level to store for a row that says `stage` and `level` (None: the cell was blank).

    A blank level is 2 from `approved` on, 0 at `none`, and otherwise (registered, failed) the
    level already known for the resident (0 for a new one). The citizens list and the stage
    extract both follow this rule."""
    if level is not None:
        return level
    if stage in LEVEL_2_STAGES:
        return 2
    if stage == Stage.NONE:
        return 0
    return known_level


def eligibility_cutoff(on: dt.date, min_age: int) -> dt.date:
    """The latest birth date that is `min_age` years old on `on` (29 Feb → 28 Feb)."""
    try:
        return on.replace(year=on.year - min_age)
    except ValueError:
        return on.replace(year=on.year - min_age, day=28)


def eligible_from(birth: dt.date, min_age: int) -> dt.date:
    """The first day on which someone born on `birth` is `min_age` or more years old."""
    try:
        return birth.replace(year=birth.year + min_age)
    except ValueError:  # born 29 February, the birthday year is a common year
        return dt.date(birth.year + min_age, 3, 1)


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# Stages that still leave work for the field, and the name of that work.
STAGE_GAP = {
    "none": "not_registered",
    "failed": "failed",
    "registered": "not_activated",
    "approved": "not_activated",
    "activated": "not_used",
}
GAP_STAGES: dict[str, tuple[str, ...]] = {}
for _stage, _gap in STAGE_GAP.items():
    GAP_STAGES[_gap] = (*GAP_STAGES.get(_gap, ()), _stage)
GAPS = ("not_registered", "failed", "not_activated", "not_used")
GAP_LABELS = {
    "not_registered": gettext_lazy("Chưa đăng ký"),
    "failed": gettext_lazy("Hồ sơ không đạt"),
    "not_activated": gettext_lazy("Chưa kích hoạt"),
    "not_used": gettext_lazy("Chưa sử dụng"),
}
