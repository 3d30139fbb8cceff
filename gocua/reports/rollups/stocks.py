"""Stock vectors: how many eligible residents a unit has on a day, by confirmed stage.

A vector has one entry per column of STOCK_COLUMNS (the six stages by code, then level 2).
Rollup rows hold *changes*: `Diffs` maps (unit id, day) to the vector added from that day on.
"""

import datetime as dt
from typing import NamedTuple

from gocua.reports.models import STOCK_COLUMNS
from gocua.reports.rollups.dates import eligible_from

LEVEL2 = STOCK_COLUMNS.index("level2")
WIDTH = len(STOCK_COLUMNS)

Diffs = dict[tuple[int, dt.date], list[int]]


class Counted(NamedTuple):
    """A resident as the rollups count them (now, or as their snapshot says)."""

    unit_id: int
    birth_date: dt.date
    active: bool  # neither deceased nor moved out
    stage: int  # gocua.people.funnel.STAGE_CODES
    level: int


class StageStep(NamedTuple):
    """A stage event, its day clamped into the rollups' [first day, last day]."""

    id: int
    day: dt.date
    from_stage: int
    to_stage: int
    from_level: int
    to_level: int
    at: dt.datetime


class Span(NamedTuple):
    """The days the rollups hold, and the age they count from."""

    first: dt.date
    last: dt.date
    min_age: int


def stock_vector(stage: int, level: int) -> list[int]:
    """One resident at `stage` (a code) and eID `level`."""
    vector = [0] * WIDTH
    vector[stage] = 1
    if level == 2:
        vector[LEVEL2] = 1
    return vector


def step_vector(step: StageStep) -> list[int]:
    """What a stage event changes: its new stage in, its old one out."""
    after = stock_vector(step.to_stage, step.to_level)
    before = stock_vector(step.from_stage, step.from_level)
    return [a - b for a, b in zip(after, before, strict=True)]


def add_into(target: dict, key, vector: list[int], times: int = 1) -> None:
    """target[key] += times * vector (a missing key is zeros)."""
    current = target.get(key)
    if current is None:
        target[key] = [times * x for x in vector]
    else:
        for i, x in enumerate(vector):
            current[i] += times * x


def add_contribution(
    resident: Counted | None, steps: list[StageStep], span: Span, out: Diffs, sign: int
) -> None:
    """Add (sign=+1) or remove (-1) one resident's counts over the span to `out`: their stage
    on a day is the current one minus every step dated after it, from the first day they are
    old enough. `steps` are in event order."""
    if resident is None or not resident.active:
        return
    start = max(eligible_from(resident.birth_date, span.min_age), span.first)
    if start > span.last:
        return
    opening = stock_vector(resident.stage, resident.level)
    later = []
    for step in steps:
        if step.day > start:
            delta = step_vector(step)
            later.append((step.day, delta))
            opening = [a - b for a, b in zip(opening, delta, strict=True)]
    add_into(out, (resident.unit_id, start), opening, sign)
    for day, delta in later:
        add_into(out, (resident.unit_id, day), delta, sign)
