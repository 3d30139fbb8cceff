"""Sixty days of campaign history for one commune: stage events, then the field work that
explains them (visits, outcomes, claims, follow-ups, home support).

Conventions (tested in tests/test_history.py):
- Every resident starts as (none, level 0). Whatever they had before the window is one
  StageEvent from (none, 0) at a date before day 1, with source `import` (what the citizens
  import writes for a list that carries a stage). Window changes are source `extract`. So
  replaying a resident's events in time order always gives their stored eid_stage, eid_level
  and stage_at (the last event's time); last_used_at is the time of the event into `used`.
  A resident with no events is (none, 0) with stage_at and last_used_at empty.
- Day d of the window (1..60) is [(d-1)·DAY, d·DAY) in campaign seconds (see writer.Clock);
  day 60 is today. Extract changes happen in office hours on days 1..59; the last day's
  changes come from the night extract read late on day 59 (21:00–23:30); visits happen on
  days 1..59. Nothing is dated after LAST_MOMENT, midnight at the start of today, so nothing
  the generator writes is later than the moment it runs, whenever today it runs (the demo
  made at 01:09 showed an extract "at 05:29").
- A claim is confirmed at the time of the first later event that reaches the claimed stage
  (the rule of fieldwork.services.claims_confirm); claims on people the extracts never moved
  stay unconfirmed, for the reconciliation report.
"""

import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gocua.people.funnel import ACTIVATED_STAGES, LEVEL_2_STAGES, RANK, REGISTERED_STAGES
from gocua.synthetic.population import CommunePlan, Home, Person, gumbel
from gocua.synthetic.writer import DAY

IMPORT, EXTRACT = "import", "extract"
_GONE_STAGES, _GONE_CUM = ("approved", "activated", "used", "none"), (0.4, 0.7, 0.8, 1.0)


@dataclass(frozen=True)
class Shape:
    """The province's funnel at day 0 and on the last day, as shares of eligible residents,
    and how far one standard deviation of a commune's lead/lag effect moves each share."""

    registered: tuple[float, float] = (0.85, 0.98)
    activated: tuple[float, float] = (0.30, 0.65)
    used: tuple[float, float] = (0.10, 0.35)
    spread_registered: tuple[float, float] = (0.035, 0.010)
    spread_activated: tuple[float, float] = (0.05, 0.07)
    spread_used: tuple[float, float] = (0.025, 0.06)

    def rates(self, effect: float) -> dict[str, float]:
        def clip(value: float, lo: float, hi: float) -> float:
            return max(lo, min(hi, value))

        return {
            "R0": clip(self.registered[0] + self.spread_registered[0] * effect, 0.5, 0.97),
            "R60": clip(self.registered[1] + self.spread_registered[1] * effect, 0.9, 0.998),
            "A0": clip(self.activated[0] + self.spread_activated[0] * effect, 0.05, 0.6),
            "A60": clip(self.activated[1] + self.spread_activated[1] * effect, 0.35, 0.9),
            "U0": clip(self.used[0] + self.spread_used[0] * effect, 0.01, 0.3),
            "U60": clip(self.used[1] + self.spread_used[1] * effect, 0.1, 0.6),
        }


class Quotas:
    """Whole-number quotas per commune whose running sum follows the province's expected
    total, so rounding in 94 small communes does not drift the province's rates."""

    def __init__(self) -> None:
        self.expected: dict[str, float] = defaultdict(float)
        self.given: dict[str, int] = defaultdict(int)

    def take(self, name: str, expected: float) -> int:
        self.expected[name] += expected
        return max(0, round(self.expected[name] - self.given[name]))

    def settle(self, name: str, count: int) -> None:
        self.given[name] += count


def last_moment(window: int) -> int:
    """Midnight at the start of the last day (today): the latest time the history may use."""
    return (window - 1) * DAY


def office_time(rng: random.Random, day: int, window: int) -> int:
    if day >= window:  # today's changes: the night extract, read before today began
        return last_moment(window) - rng.randint(1_800, 10_800)  # 21:00–23:30 the day before
    return (day - 1) * DAY + rng.randint(27_000, 70_200)  # 07:30–19:30


# Visit times by time of day: (bucket, share, start, end) in seconds after midnight.
_BUCKETS = (
    ("morning", 0.45, 27_000, 41_400),
    ("afternoon", 0.35, 48_600, 61_200),
    ("evening", 0.20, 63_000, 73_800),
)


def visit_time(rng: random.Random, day: int, bucket: str | None = None) -> tuple[int, str]:
    if bucket is None:
        draw, bucket = rng.random(), "evening"
        for name, share, _, _ in _BUCKETS:
            if draw < share:
                bucket = name
                break
            draw -= share
    _, _, start, end = next(b for b in _BUCKETS if b[0] == bucket)
    return (day - 1) * DAY + rng.randint(start, end), bucket


def _day_in(rng: random.Random, lo: int, hi: int, mode_share: float) -> int:
    """A day in [lo, hi], triangular with its mode `mode_share` of the way along."""
    if lo >= hi:
        return lo
    mode = lo + (hi + 1 - lo) * min(max(mode_share, 0.0), 1.0)
    return min(hi, max(lo, int(rng.triangular(lo, hi + 1, mode))))


def commune_history(
    rng: random.Random,
    *,
    people: list[Person],
    plan: CommunePlan,
    quotas: Quotas,
    shape: Shape,
    window: int,
) -> None:
    """Give every person of the commune their events and final stage.

    Who moves is decided by quotas per commune (leaders and laggards come from the
    commune's effect) and, inside the commune, by scores: being away, very old, disabled,
    without a smartphone or with a SIM in someone else's name makes a step less likely."""
    effect = plan.effect
    eligible = [p for p in people if p.eligible]
    quota = {
        name: quotas.take(name, rate * len(eligible)) for name, rate in shape.rates(effect).items()
    }
    reg_score, act_score, use_score = _scores(rng, eligible)
    order = sorted(eligible, key=reg_score.__getitem__, reverse=True)
    before = [p for p in order if p.earliest is not None][: quota["R0"]]
    before_set = set(before)
    during = [p for p in order if p not in before_set][: max(0, quota["R60"] - len(before))]
    registered = before_set | set(during)
    steps: dict[Person, list[tuple[int, str]]] = {p: [] for p in eligible}
    initial: dict[Person, str] = {}
    approved_on: dict[Person, int] = {}  # day the person is (or was) approved; 0 = before

    by_act = sorted(before, key=act_score.__getitem__, reverse=True)
    active_before = by_act[: quota["A0"]]
    by_use = sorted(active_before, key=use_score.__getitem__, reverse=True)
    used_before = set(by_use[: quota["U0"]])
    for p in active_before:
        initial[p] = "used" if p in used_before else "activated"
        approved_on[p] = 0
    _before_window(rng, before, set(active_before), initial, approved_on, steps, window)
    for p in during:  # registered in the window, most of them early
        day = max(p.first_day, _day_in(rng, 1, window, 0.25 - 0.08 * effect))
        _register(rng, steps[p], day, window, approved_on, p, failed=rng.random() < 0.05)

    activated_on, used_count = _activate_and_use(
        rng,
        (*before, *during),
        active_before,
        used_before,
        approved_on,
        (act_score, use_score),
        quota,
        steps,
        window=window,
        effect=effect,
    )
    quotas.settle("R0", len(before))
    quotas.settle("R60", len(registered))
    quotas.settle("A0", len(active_before))
    quotas.settle("A60", len(activated_on))
    quotas.settle("U0", len(used_before))
    quotas.settle("U60", used_count)
    _people_settle(rng, people, initial, registered, steps, window)


def _activate_and_use(
    rng: random.Random,
    registered: tuple[Person, ...],
    active_before: list[Person],
    used_before: set[Person],
    approved_on: dict[Person, int],
    scores: tuple[dict, dict],
    quota: dict[str, int],
    steps: dict[Person, list[tuple[int, str]]],
    *,
    window: int,
    effect: float,
) -> tuple[dict[Person, int], int]:
    """Who activates and who first uses the app in the window, best scores first up to the
    quotas; returns the day each active person activated (0: before) and how many use it."""
    act_score, use_score = scores
    active_before_set = set(active_before)
    act_mode = 0.45 - 0.12 * effect
    candidates = [
        p
        for p in registered
        if p not in active_before_set
        and approved_on.get(p) is not None
        and approved_on[p] <= window - 2
    ]
    candidates.sort(key=act_score.__getitem__, reverse=True)
    activated_on: dict[Person, int] = dict.fromkeys(active_before, 0)
    for p in candidates[: max(0, quota["A60"] - len(active_before))]:
        day = _day_in(rng, max(1, approved_on[p] + 1), window, act_mode)
        steps[p].append((day, "activated"))
        activated_on[p] = day
    users = [p for p in activated_on if p not in used_before and activated_on[p] <= window - 1]
    users.sort(key=use_score.__getitem__, reverse=True)
    used_count = len(used_before)
    for p in users[: max(0, quota["U60"] - len(used_before))]:
        day = _day_in(rng, activated_on[p] + 1, window, 0.5 - 0.1 * effect)
        steps[p].append((day, "used"))
        used_count += 1
    return activated_on, used_count


def _scores(rng: random.Random, eligible: list[Person]) -> tuple[dict, dict, dict]:
    """Each eligible person's registration, activation and usage scores: a random draw less
    what makes the step less likely."""
    reg_score, act_score, use_score = {}, {}, {}
    for p in eligible:
        old = p.age >= 75
        reg_score[p] = gumbel(rng) - (
            1.6 * p.away
            + 1.0 * old
            + 0.4 * p.elderly
            + 1.2 * p.disabled
            + 0.6 * (p.age < 18)
            + 0.3 * p.no_smartphone
        )
        act_score[p] = gumbel(rng) - (
            3.0 * p.no_smartphone
            + 2.5 * (not p.phone)
            + 2.0 * p.sim_not_owned
            + 1.3 * p.away
            + 0.8 * p.elderly
            + 0.7 * old
            + 1.0 * p.disabled
            + 0.3 * (p.age < 18)
        )
        use_score[p] = gumbel(rng) - (1.0 * p.elderly + 2.0 * p.no_smartphone + 0.5 * p.away)
    return reg_score, act_score, use_score


def _before_window(
    rng: random.Random,
    before: list[Person],
    active_before: set[Person],
    initial: dict[Person, str],
    approved_on: dict[Person, int],
    steps: dict[Person, list[tuple[int, str]]],
    window: int,
) -> None:
    """The stage on day 1 of those registered before the window and not yet active."""
    for p in before:
        if p in active_before:
            continue
        draw = rng.random()
        if draw < 0.90:
            initial[p], approved_on[p] = "approved", 0
        elif draw < 0.96:
            initial[p] = "registered"
            day = rng.randint(1, 6)
            steps[p].append((day, "approved"))
            approved_on[p] = day
        else:
            initial[p] = "failed"
            _register(
                rng,
                steps[p],
                rng.randint(3, 25),
                window,
                approved_on,
                p,
                failed=False,
                first="registered",
            )


def _people_settle(
    rng: random.Random,
    people: list[Person],
    initial: dict[Person, str],
    registered: set[Person],
    steps: dict[Person, list[tuple[int, str]]],
    window: int,
) -> None:
    """Everyone's events and final stage, from their stage on day 1 and their steps."""
    for p in people:
        if p.earliest is None:
            # Not old enough before day 1: everything they have happens in the window.
            base_level = 0
        else:
            # A level-1 app account from before the campaign (not a level-2 registration).
            base_level = 1 if not p.no_smartphone and rng.random() < 0.3 else 0
        if p.eligible:
            first = initial.get(p, "none")
            if p not in registered and not p.away and not (p.age >= 75 or p.disabled):
                p.needs_id_card = rng.random() < 0.3  # no chip card yet: cannot file a dossier
        elif p.earliest is not None:
            # Died or moved away: what they had before the window, and nothing after.
            first = rng.choices(_GONE_STAGES, cum_weights=_GONE_CUM)[0]
        else:
            first = "none"
        _materialize(rng, p, first, base_level, sorted(steps.get(p, ())), window)


def _register(
    rng, steps, day, window, approved_on, p, *, failed: bool, first: str = "registered"
) -> None:
    """Dossier received on `day`; approved a few days later, or failed and collected again."""
    steps.append((day, first))
    if failed:
        day += rng.randint(2, 5)
        steps.append((day, "failed"))
        day += rng.randint(3, 12)
        steps.append((day, "registered"))
    day += rng.randint(1, 5)
    steps.append((day, "approved"))
    if day <= window:
        approved_on[p] = day
    else:
        approved_on.pop(p, None)
    steps[:] = [s for s in steps if s[0] <= window]


def _materialize(rng, p: Person, first: str, base_level: int, steps, window) -> None:
    events = p.events
    stage, level = "none", 0
    if first != "none" or base_level:
        # Before the window: one event from (none, 0), as a citizens list would bring it.
        day = rng.randint(p.earliest, -1)
        t = day * DAY + rng.randint(27_000, 61_200)
        to_level = 2 if first in LEVEL_2_STAGES else base_level
        events.append((t, stage, first, level, to_level, IMPORT))
        stage, level = first, to_level
        if first == "used":
            p.last_used_at = t
    for day, to in steps:
        t = office_time(rng, day, window)
        to_level = 2 if to in LEVEL_2_STAGES else level
        events.append((t, stage, to, level, to_level, EXTRACT))
        stage, level = to, to_level
        if to == "used":
            p.last_used_at = t
    p.stage, p.level = stage, level
    p.stage_at = events[-1][0] if events else None


# ---------------------------------------------------------------------------------------
# Field work


@dataclass
class FieldRows:
    """Rows for the fieldwork tables, with times still in campaign seconds."""

    visits: list = field(default_factory=list)  # (uuid, household, member, at, received, lat, lon)
    # (visit, resident, outcome, note, claimed, confirmed, review, reviewed at)
    outcomes: list = field(default_factory=list)
    follow_ups: list = field(default_factory=list)
    # (id, resident, visit, reason, status, requested, scheduled at, scheduled for (day),
    #  closed, close reason)
    home_support: list = field(default_factory=list)
    officers: list = field(default_factory=list)  # (home support id, member id)


# The rules of fieldwork.visits.visits_record, which the bulk rows follow.
_CLAIMS = {"helped_register": "registered", "helped_activate": "activated", "guided_usage": "used"}
_NEXT_TIME_OF_DAY = {"morning": "evening", "afternoon": "evening", "evening": "morning"}
_STATUS_OUTCOMES = ("deceased", "moved_away")


def _confirmed(p: Person, claimed: str, after: int) -> int | None:
    for t, _, to, _, _, _ in p.events:
        if t > after and RANK[to] >= RANK[claimed]:
            return t
    return None


def _last_window_day(p: Person) -> int:
    last = 0
    for t, *_ in p.events:
        if t >= 0:
            last = t // DAY + 1
    return last


def _gap_outcome(rng: random.Random, p: Person, *, allow_not_home: bool = True) -> str | None:
    """Why a resident with a gap on the last day was not moved by the visit."""
    if p.deceased:
        return "deceased"
    if p.moved_out:
        return "moved_away"
    draw = rng.random()
    if p.stage == "none":
        if p.needs_id_card:
            return "needs_id_card"
        if p.away:
            return "not_home" if allow_not_home and draw < 0.85 else "refused"
        if p.age >= 75 or p.disabled:
            return "needs_home_support"
        if draw < 0.45:
            return "not_home" if allow_not_home else "refused"
        return "refused" if draw < 0.75 else "app_error" if draw < 0.85 else "helped_register"
    if p.stage == "failed":
        return "needs_id_card" if draw < 0.5 else "app_error"
    if p.stage in ("registered", "approved"):
        if p.no_smartphone or not p.phone:
            return "no_smartphone"
        if p.sim_not_owned:
            return "phone_not_owned"
        if p.away:
            return "not_home" if allow_not_home else "phone_not_owned"
        if p.age >= 75 or p.disabled:
            return "no_smartphone"
        if draw < 0.3:
            return "app_error"
        if draw < 0.55:
            return "not_home" if allow_not_home else "app_error"
        return "refused" if draw < 0.7 else "helped_activate"
    return None


def _home_reason(p: Person) -> str:
    if p.disabled:
        return "Khuyết tật, không tự đi làm thủ tục được"
    return f"Người cao tuổi ({p.age} tuổi), đi lại khó khăn"


@dataclass
class _Visit:
    day: int
    t: int = 0
    bucket: str = ""
    id: uuid.UUID | None = None
    outcomes: dict = field(default_factory=dict)  # person -> outcome


def commune_fieldwork(
    rng: random.Random,
    *,
    homes: list[Home],
    window: int,
    deadline_day: int,
    hamlet_member: dict[int, int],
    police: list[int],
    next_home_support_id: Callable[[], int],
) -> FieldRows:
    """Visits whose outcomes explain each household's history: claims a few days before the
    extract confirms them, and for the residents still behind on the last day, the reason
    (not home, no smartphone, SIM not in their name, needs home support ...).

    The rows follow visits_record's effects: a `not_home` visit leaves a follow-up for the next
    day at another time of day, closed by the household's next visit; `needs_home_support`
    opens a request (one open per resident), scheduled with two police officers; the
    `no_smartphone` and `needs_id_card` outcomes set the resident's flag; a reported death or
    move is confirmed by the unit manager (the resident's flag is set).

    The steps below draw from `rng` in this order, household by household: the same seed
    must give the same rows."""
    rows = FieldRows()
    latest = last_moment(window)  # nothing after it
    for home in homes:
        member = hamlet_member[home.hamlet.id]
        visits: dict[int, _Visit] = {}
        registered_at_home = _claim_visits(rng, home, visits, window)
        gap_day = _gap_visit(rng, home, visits, window)
        _time_visits(rng, visits, gap_day, window)
        ordered = [visits[day] for day in sorted(visits)]
        requests = _visit_rows(
            rng, rows, home, member, ordered, latest=latest, next_id=next_home_support_id
        )
        _home_support_rows(
            rng,
            rows,
            requests,
            {p: t for p, _, t in registered_at_home},
            police=police,
            window=window,
            deadline_day=deadline_day,
            latest=latest,
        )
    return rows


def _add_outcome(visits: dict[int, _Visit], window: int, day: int, p: Person, outcome: str) -> bool:
    """`outcome` for `p` at the household's visit on `day` (made if needed), unless the day is
    outside the window or `p` already has one there."""
    if day < 1 or day >= window:
        return False
    visit = visits.setdefault(day, _Visit(day))
    if p in visit.outcomes:
        return False
    visit.outcomes[p] = outcome
    return True


def _claim_visits(
    rng: random.Random, home: Home, visits: dict[int, _Visit], window: int
) -> list[tuple[Person, int, int]]:
    """The visits that helped a step the extract later confirmed, a few days before it. Returns
    the elderly or disabled registered at home: (person, visit day, registration time)."""
    r = rng.random
    registered_at_home: list[tuple[Person, int, int]] = []
    for p in home.members:
        for t, _, to, _, _, source in p.events:
            if source != EXTRACT:
                continue
            day = t // DAY + 1
            if to == "registered" and r() < 0.55:
                if (p.age >= 75 or p.disabled) and r() < 0.7:
                    visit_day = day - rng.randint(3, 8)
                    if _add_outcome(visits, window, visit_day, p, "needs_home_support"):
                        registered_at_home.append((p, visit_day, t))
                else:
                    _add_outcome(visits, window, day - rng.randint(1, 3), p, "helped_register")
            elif to == "activated" and r() < 0.6:
                helped = "helped_activate" if r() < 0.85 else "helped_install"
                _add_outcome(visits, window, day - rng.randint(1, 3), p, helped)
            elif to == "used" and r() < 0.4:
                _add_outcome(visits, window, day - rng.randint(1, 4), p, "guided_usage")
    return registered_at_home


def _gap_visit(
    rng: random.Random, home: Home, visits: dict[int, _Visit], window: int
) -> int | None:
    """The visit after a household's last change that says why its members still behind are
    behind; its day, or None when there is none."""
    r = rng.random
    behind = [
        p
        for p in home.members
        if p.deceased or p.moved_out or (p.eligible and p.stage not in ACTIVATED_STAGES)
    ]
    gap_day = None
    outcome: str | None
    if behind and r() < 0.8:
        lo = max(1, *(_last_window_day(p) + 1 for p in behind))
        if lo <= window - 1:
            gap_day = _day_in(rng, lo, window - 1, 0.6)
            for p in home.members:
                if p in behind:
                    outcome = _gap_outcome(rng, p)
                elif _last_window_day(p) >= gap_day or not p.eligible:
                    outcome = None
                elif p.stage == "activated":
                    outcome = "guided_usage" if r() < 0.3 else None
                else:
                    outcome = "already_done" if r() < 0.3 else None
                if outcome:
                    _add_outcome(visits, window, gap_day, p, outcome)
    return gap_day


def _time_visits(
    rng: random.Random, visits: dict[int, _Visit], gap_day: int | None, window: int
) -> None:
    """Each visit's time and id, and the gap visit's absentees seen again the next day."""
    for day in sorted(visits):
        visit = visits[day]
        visit.t, visit.bucket = visit_time(rng, day)
        visit.id = uuid.UUID(int=rng.getrandbits(128), version=4)
    # The gap visit's absentees: the member comes back the next day at another time.
    if gap_day is None:
        return
    absent = [p for p, o in visits[gap_day].outcomes.items() if o == "not_home"]
    again = gap_day + 1
    if absent and again <= window - 1 and again not in visits and rng.random() < 0.55:
        revisit = _Visit(again)
        revisit.t, revisit.bucket = visit_time(
            rng, again, _NEXT_TIME_OF_DAY[visits[gap_day].bucket]
        )
        revisit.id = uuid.UUID(int=rng.getrandbits(128), version=4)
        for p in absent:
            revisit.outcomes[p] = _gap_outcome(rng, p, allow_not_home=p.away and rng.random() < 0.6)
        visits[again] = revisit


def _visit_rows(
    rng: random.Random,
    rows: FieldRows,
    home: Home,
    member: int,
    ordered: list[_Visit],
    *,
    latest: int,
    next_id: Callable[[], int],
) -> dict[Person, list[Any]]:
    """The household's visits, outcomes and not-home follow-ups, in visit order. Returns the
    home-support requests they opened, one per resident (rows still to be completed)."""
    requests: dict[Person, list[Any]] = {}  # one open request per resident
    for index, visit in enumerate(ordered):
        later = ordered[index + 1].t if index + 1 < len(ordered) else None
        _visit_row(rng, rows, home, member, visit.id, visit.t)
        not_home: list[Person] = []
        for p, outcome in visit.outcomes.items():
            claimed = _CLAIMS.get(outcome, "")
            confirmed = _confirmed(p, claimed, visit.t) if claimed else None
            note = _home_reason(p) if outcome == "needs_home_support" else ""
            review, reviewed = "", None
            if outcome in _STATUS_OUTCOMES:  # the flag is set: a manager confirmed it
                review = "confirmed"
                reviewed = min(visit.t + rng.randint(1, 3) * DAY, latest)
            rows.outcomes.append(
                (visit.id, p.id, outcome, note, claimed, confirmed, review, reviewed)
            )
            if outcome == "not_home":
                not_home.append(p)
            elif outcome == "no_smartphone":
                p.no_smartphone = True
            elif outcome == "needs_id_card":
                p.needs_id_card = True
            elif outcome == "needs_home_support" and p not in requests:
                requests[p] = [
                    next_id(),
                    p.id,
                    visit.id,
                    note,
                    "requested",
                    visit.t,
                    None,
                    None,
                    None,
                    "",
                ]
        if not_home:
            _follow_up_row(rows, home, member, visit, not_home, later)
    return requests


def _follow_up_row(
    rows: FieldRows,
    home: Home,
    member: int,
    visit: _Visit,
    not_home: list[Person],
    later: int | None,
) -> None:
    """The follow-up a `not_home` visit leaves for the next day, closed by the household's
    next visit (at `later`) if there is one."""
    rows.follow_ups.append(
        (
            home.id,
            not_home[0].id if len(not_home) == 1 else None,
            visit.id,
            member,
            visit.day + 1,
            _NEXT_TIME_OF_DAY[visit.bucket],
            ("Không có nhà: " + ", ".join(p.full_name for p in not_home))[:200],
            "done" if later is not None else "open",
            later,
            visit.t,
        )
    )


def _home_support_rows(
    rng: random.Random,
    rows: FieldRows,
    requests: dict[Person, list[Any]],
    reg_at: dict[Person, int],
    *,
    police: list[int],
    window: int,
    deadline_day: int,
    latest: int,
) -> None:
    """Requests: the elderly registered at home (`reg_at`: when) were scheduled with two police
    officers and done on the day of the registration; the others are waiting, scheduled or
    cancelled."""
    r = rng.random
    for person, row in requests.items():
        rows.home_support.append(row)
        requested = row[5]
        scheduled_at = requested + rng.randint(1, 2) * DAY
        if person in reg_at:
            row[4], row[6] = "done", min(scheduled_at, reg_at[person])
            row[7] = reg_at[person] // DAY + 1
            row[8] = reg_at[person]
            rows.officers.extend((row[0], m) for m in police[:2])
        elif requested // DAY + 1 >= window - 7 or r() < 0.1:
            continue  # still waiting to be scheduled
        elif r() < 0.9:
            row[4], row[6] = "scheduled", min(scheduled_at, latest)
            first = row[6] // DAY + 1
            row[7] = min(first + rng.randint(0, 14), deadline_day)
            rows.officers.extend((row[0], m) for m in police[:2])
        else:
            row[4], row[8] = "cancelled", min(requested + 2 * DAY, latest)
            row[9] = "Gia đình hẹn lại sau"


def _visit_row(rng, rows: FieldRows, home: Home, member: int, visit_id, t: int) -> None:
    lat = lon = None
    if home.lat is not None and rng.random() < 0.85:
        lat = round(home.lat + rng.gauss(0, 0.0002), 6)
        lon = round(home.lon + rng.gauss(0, 0.0002), 6)
    rows.visits.append((visit_id, home.id, member, t, t + rng.randint(60, 7_200), lat, lon))


def kpi_tally(people: list[Person]) -> dict[str, int]:
    """Eligible, registered and activated on day 0 (before the window) and on the last day."""
    tally = dict.fromkeys(("eligible", "registered0", "activated0", "registered", "activated"), 0)
    for p in people:
        if not p.eligible:
            continue
        tally["eligible"] += 1
        start_stage = "none"
        for t, _, to, *_ in p.events:
            if t >= 0:
                break
            start_stage = to
        tally["registered0"] += start_stage in REGISTERED_STAGES
        tally["activated0"] += start_stage in ACTIVATED_STAGES
        tally["registered"] += p.stage in REGISTERED_STAGES
        tally["activated"] += p.stage in ACTIVATED_STAGES
    return tally
