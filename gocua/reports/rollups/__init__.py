"""Rollups: per-unit, per-day counts kept current as stage events and visits arrive.

What is stored
--------------
`UnitDay(unit, day)` holds, for the whole subtree of `unit`:
- in the stage columns (`st_none` .. `st_used`, `level2`), the *change* on `day` of the number
  of residents eligible that day, by confirmed stage: the stock on day D is the sum of the rows
  of days <= D (the first day's row is the opening stock). A resident imported today who counts
  over the whole series is one row (+1 on the first day), not one per day, and a new day costs
  nothing but the birthdays of that day;
- in the field columns, that day's flows: visits, distinct households reached, visits that met
  someone (`contacted`), claims made (by claimed stage) and how many of those claims the
  confirmed stage supports now (`confirmed_*`: it ranks at or above the claimed one).
Rows exist for the units that have something to count, *ancestors included*: a change on a
hamlet is written to the hamlet, its commune, district and province in the same statement.
That costs ~4x on writes (a chunk touches at most a few thousand rows, never one per
resident) and makes every read "sum the rows of the units shown": a dashboard is O(units shown
x days), independent of the number of residents. `MemberDay(member, day)` holds the same flows
per team member. A missing row means zeros.

What a day's stock means
------------------------
For a resident r and a day D in [first_day, last_day]:
  stage_r(D) = the current stage, minus the effect of every StageEvent dated after D
  (effective day = the event's local date, clamped into [first_day, last_day]);
  r counts on D if r is active (neither deceased nor moved out: today's flags apply to the
  whole series) and D >= eligible_from(birth_date, min_age).
Both the rebuild and the incremental path compute exactly this, so they agree by construction.

Keeping it current (O(changes), not O(residents))
-------------------------------------------------
The write paths never call the rollups: in their own transaction they record *what* changed
in the outbox of gocua.changes (`visits_recorded`, `residents_changed`, `residents_added`,
`campaign_inputs_changed`), and the worker folds it (upkeep.py, run by gocua.reports.tasks):
soon after the commit of a post (a phone's visits are counted within about a second), on its
round every few seconds, and nightly. `ResidentSnapshot` stores what the rollups last counted
for each resident (unit, birth date, active, stage, level, id of the last stage event seen);
the fold reads the queued residents and their stage events, compares them with the snapshot,
and writes the difference of the two contributions as a few upserts (residents.py), so no
write path computes deltas and counting someone twice is harmless. Visits are folded in
batches (visits.py), residents an import inserted set-based (imported.py). Every rollup write
takes the single `RollupState` row lock, so concurrent writers (a fold, a catch-up, a rebuild)
serialise on the rollups only; a phone's post never waits for it.

Reads never write: they read the rows as the worker left them, and the state says how current
they are (`rollup_state`: the time of the last fold, what is still waiting), which the pages
and the KPI API show. So dashboards can later be served from a read replica.

Birthdays
---------
Someone turning `min_age` today joins today's denominator. On the worker's first fold of a
new day (its round, every few seconds), the residents whose birth date lies in
(cutoff(yesterday), cutoff(today)] are added to today's row — a range query on
`ResidentSnapshot.birth_date`, i.e. O(people having that birthday), typically a few dozen in a
province. Several missing days are rolled one by one; until then reads of the new day fall
back to live counts. The nightly roll (`gocua rollup roll`) also re-reads the residents edited
since its last run (`updated_at`): a safety net for a write path that forgot to record its
change. Birth dates of 29 February become eligible on 1 March in common years (the same rule
as `eligibility_cutoff`).

Limits (by design, documented rather than hidden)
-------------------------------------------------
- The minimum age and the first day are fixed at build time: a campaign whose `min_age`
  changes needs `gocua rollup rebuild` (until then reads fall back to live queries, which are
  exact but O(residents)).
- A stage event dated in the future is counted today (clamped); a visit dated outside
  [first_day, today] is not counted.
- Deleting residents (not something GõCửa does) needs a rebuild: their stage history is gone.
- No `RollupState` row means the rollups were never built: changes stay queued until the
  build empties the queues, and reads use the live GROUP BY. `gocua rollup rebuild` (also
  run by `gocua generate`) builds them.

Modules: dates (day rules), stocks (vectors, a resident's contribution), rows (writing rows,
the SQL fast path), state (the state row, its lock, the roll, reads), residents (recounting
edited residents, claims that flip), imported (the catch-up of imported residents), visits
(the visit fold), rebuild, upkeep (what the worker runs).
"""

import datetime as dt

from gocua.reports.rollups import dates
from gocua.reports.rollups.dates import (
    LEAD_DAYS,
    current_min_age,
    eligibility_cutoff,
    eligible_from,
    local_day,
)
from gocua.reports.rollups.imported import CATCH_UP_BATCH, rollup_catch_up
from gocua.reports.rollups.rebuild import rollup_rebuild
from gocua.reports.rollups.residents import CLAIM_CODES, CLAIM_FLOW, rollup_residents_changed
from gocua.reports.rollups.rows import rollup_units_kept
from gocua.reports.rollups.state import rollup_state
from gocua.reports.rollups.upkeep import (
    rollup_everything,
    rollup_fold,
    rollup_inputs_changed,
    rollup_maintain,
    rollup_roll,
)
from gocua.reports.rollups.visits import FOLD_EVERY, NOT_HOME, fold_soon


def today() -> dt.date:
    """The counted day now: dates.today, looked up at each call so a test patching
    gocua.reports.rollups.dates.today moves every reader and writer alike."""
    return dates.today()


__all__ = [
    "CATCH_UP_BATCH",
    "CLAIM_CODES",
    "CLAIM_FLOW",
    "FOLD_EVERY",
    "LEAD_DAYS",
    "NOT_HOME",
    "current_min_age",
    "eligibility_cutoff",
    "eligible_from",
    "fold_soon",
    "local_day",
    "rollup_catch_up",
    "rollup_everything",
    "rollup_fold",
    "rollup_inputs_changed",
    "rollup_maintain",
    "rollup_rebuild",
    "rollup_residents_changed",
    "rollup_roll",
    "rollup_state",
    "rollup_units_kept",
    "today",
]
