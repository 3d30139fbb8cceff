"""The funnel's rules, defined once: the order of the stages, which stages each KPI counts, who
is eligible and elderly, and the eID level a row that leaves it blank gets.

Everything that compares, counts or defaults a stage reads it from here (fieldwork's claims,
the rollups and KPI rows, the imports, the generator), so they cannot drift apart.
"""

from gocua.people.models import Stage

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

# Eligible residents are aged `campaign.min_age` or more on the day counted (docs/design.md);
# this is its default, and the age counted without a current campaign: a level-2 account is
# for citizens aged 14 or more (Decree 59/2022/NĐ-CP on electronic identification).
DEFAULT_MIN_AGE = 14

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
