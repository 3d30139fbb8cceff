"""What the worker runs (gocua.reports.tasks): the folds of the outbox (gocua.changes), the
catch-up of imported residents, the roll to a new day, the rebuild when the rows cannot
answer. Only these write the rollups; reads never do."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from gocua.changes.models import CampaignChange, PendingResidents
from gocua.people.models import Resident
from gocua.reports.models import RollupState
from gocua.reports.rollups import dates
from gocua.reports.rollups.imported import rollup_catch_up
from gocua.reports.rollups.rebuild import rollup_rebuild
from gocua.reports.rollups.residents import EDITED_BATCH, fold_edited, recount_residents
from gocua.reports.rollups.state import any_waiting, folded, locked_state
from gocua.reports.rollups.visits import fold_visits
from gocua.worker.services import enqueue_after_commit

SWEEP_BATCH = 5000


def rollup_fold(*, wait: bool = True, limit: int | None = None) -> int:
    """Count what the write paths queued: roll to today, recount the edited residents, fold
    the queued visits (all of them, or at most `limit`). `wait=False` returns at once when
    another transaction holds the rollups' lock. Returns how many visits were folded. Until
    the rollups are built the visits stay queued (the build counts them and empties it)."""
    started = timezone.now()
    while True:
        # A transaction per batch of edited residents (a status extract queues thousands):
        # the lock is not held for the whole queue.
        with transaction.atomic():
            state = locked_state(skip_locked=not wait)
            if state is None:
                return 0
            if fold_edited(state, batches=1) == EDITED_BATCH:
                continue
            done = fold_visits(state, limit)
            folded(state, started)
            return done


def rollup_everything() -> int:
    """Count everything queued, imported residents included (what `gocua rollup fold` and an
    import from the command line run when no worker may be running). Returns the visits
    folded."""
    rollup_catch_up()
    return rollup_fold()


def rollup_roll(*, sweep: bool = True) -> tuple[dt.date | None, int]:
    """Roll the rollups forward to today (idempotent), fold the queues, and with `sweep`
    re-read the residents edited since the last sweep (`updated_at`): a nightly safety net
    for a write path that did not record its change — a scan of the residents table, so it
    belongs to the nightly job, not to a request. Returns (last day, residents changed);
    (None, 0) when the rollups were never built."""
    with transaction.atomic():
        state = locked_state()
        if state is None:
            if not RollupState.objects.exists() and Resident.objects.exists():
                # Invalidated (e.g. the campaign's start date changed): rebuild tonight.
                summary = rollup_rebuild()
                return summary["day"], summary["residents"]
            return None, 0
        started = timezone.now()
        fold_edited(state)
        fold_visits(state)
        folded(state, started)
        changed = 0
        if sweep:
            since = state.swept_at or state.built_at
            ids = list(Resident.objects.filter(updated_at__gte=since).values_list("id", flat=True))
            for start in range(0, len(ids), SWEEP_BATCH):
                changed += recount_residents(state, ids[start : start + SWEEP_BATCH], [])
            state.swept_at = started
            state.save(update_fields=["swept_at"])
        return state.day, changed


def rollup_inputs_changed() -> bool:
    """The campaigns changed (gocua.changes.campaign_inputs_changed): if the rollups were
    built for another minimum age, or from a later first day than the campaigns now need,
    mark them stale and queue their rebuild (after the caller commits). Until it finishes,
    reads keep answering from the old rows, saying "recounting, figures as of" then. Returns
    whether a rebuild was queued."""
    state = RollupState.objects.filter(pk=1).first()
    if state is not None:
        needed_first = dates.default_first_day(max(state.day, dates.today()))
        if state.min_age == dates.current_min_age() and state.first_day <= needed_first:
            return False
        if state.stale_since is None:
            RollupState.objects.filter(pk=1).update(stale_since=timezone.now())
    enqueue_after_commit("gocua.reports.tasks.rollup_rebuild")
    return True


def rollup_maintain() -> str:
    """Keep the rollups existing and current (the worker runs this every few seconds): check
    the campaigns' changes; queue a rebuild when the rollups are missing while residents
    exist (an upgrade) or stale (a campaign change); build them empty on an installation
    without residents; queue the catch-up of imported residents; otherwise roll to a new day
    and fold what the write paths queued. Returns what it did."""
    changes = CampaignChange.objects.order_by("-id").values_list("id", flat=True).first()
    if changes is not None:
        CampaignChange.objects.filter(id__lte=changes).delete()
        rollup_inputs_changed()
    state = RollupState.objects.filter(pk=1).first()
    if state is None and not Resident.objects.exists():
        rollup_rebuild()  # nothing to count: instant
        return "built"
    if state is None or state.stale_since is not None:
        enqueue_after_commit("gocua.reports.tasks.rollup_rebuild")
        return "rebuild queued"
    did = "current"
    if PendingResidents.objects.exists():  # an import's chunks, or a worker died counting them
        enqueue_after_commit("gocua.reports.tasks.rollup_catch_up")
        did = "catch-up queued"
    if state.day < dates.today() or any_waiting():
        rollup_fold(wait=False)
        return "folded"
    with transaction.atomic():
        # Nothing waits: the figures are current as of now.
        locked = locked_state(skip_locked=True)
        if locked is not None:
            folded(locked, timezone.now())
    return did
