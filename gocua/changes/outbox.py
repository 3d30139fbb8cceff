"""What the write paths call, in their transaction, to say what changed (see models.py).

Depends on lib and Django only: any app may call it. Whoever folds the changes listens to
`changes_recorded`, sent after the commit of a transaction that recorded some (the reports
ask their worker to fold then, so a phone's visit is counted within about a second)."""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from gocua.changes.models import CampaignChange, ChangedResident, PendingResidents, PendingVisit
from gocua.lib.bulk import db_uuid, insert_rows
from gocua.lib.ranges import compress

# Sent after the commit, with `kind`: "visits", "residents" (edited) or "residents_added".
changes_recorded = Signal()


def _announce(kind: str) -> None:
    # robust: the changes are committed whatever a listener does; the phone gets its answer.
    transaction.on_commit(lambda: changes_recorded.send(sender=None, kind=kind), robust=True)


def visits_recorded(visit_ids: Iterable) -> int:
    """Visits this transaction created (objects or their UUIDs), to be counted. One INSERT.
    Returns how many were queued."""
    ids = [getattr(v, "pk", v) for v in visit_ids]
    if not ids:
        return 0
    insert_rows(PendingVisit._meta.db_table, ["visit_id"], [(db_uuid(i),) for i in ids])
    _announce("visits")
    return len(ids)


def residents_changed(resident_ids: Iterable[int]) -> int:
    """Residents this transaction edited (their unit, birth date, flags or stage), to be
    counted again. Returns how many were queued."""
    ids = sorted(set(resident_ids))
    if not ids:
        return 0
    ChangedResident.objects.bulk_create(
        [ChangedResident(resident_id=rid) for rid in ids], batch_size=5000
    )
    _announce("residents")
    return len(ids)


def residents_added(resident_ids: Iterable[int]) -> int:
    """Residents this transaction inserted, queued as runs of consecutive ids (an import's
    chunk is one or a few rows). Returns how many runs were queued."""
    runs = compress(resident_ids)
    if not runs:
        return 0
    PendingResidents.objects.bulk_create(
        [PendingResidents(first_id=first, last_id=last) for first, last in runs]
    )
    _announce("residents_added")
    return len(runs)


def campaign_inputs_changed() -> None:
    """A campaign became current, or a current one changed its start date or minimum age. The
    worker's next round (every few seconds) decides whether the rollups must be recounted."""
    CampaignChange.objects.create()
