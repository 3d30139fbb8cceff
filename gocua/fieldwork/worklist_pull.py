"""The worklist pull of the field page (GET /api/v1/worklist): the member's worklist, whole or
as the changes since a last pull.

The rows come from `gocua.fieldwork.selectors.worklist_households` (the one worklist), scoped
to the hamlets assigned to the user (`gocua.people.records.assigned_hamlets`). A pull
answers a cursor; the next pull sends it back and gets only the households whose entry may
have changed, plus the ids of households to drop (no work left, or no longer assigned).
"""

import datetime as dt
from dataclasses import dataclass

from django.core import signing
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from gocua.accounts.models import User
from gocua.campaigns.models import Assignment
from gocua.campaigns.selectors import current_campaign_for_user
from gocua.fieldwork.models import Visit
from gocua.fieldwork.selectors import worklist_households
from gocua.people.models import Household, Resident, StageEvent
from gocua.people.records import assigned_hamlet_ids, households_for_user

# Phones keep cursors signed with this salt: changing it would make every phone pull its whole
# list again, so it keeps the name of the module this code came from.
CURSOR_SALT = "gocua.field.worklist"
# A change committed by a transaction that started before a pull but ended after it carries a
# time before the cursor: look this far back so it is not missed (re-sending a few households
# is harmless, the page replaces them).
OVERLAP = dt.timedelta(minutes=5)


class SinceError(ValueError):
    """`since` is neither a cursor from this server nor an ISO 8601 timestamp."""


@dataclass(frozen=True)
class Since:
    at: dt.datetime
    day: dt.date  # ages (and so eligibility) are counted per day
    hamlets: frozenset[int] | None  # assigned at the last pull; None for a plain timestamp
    campaign: int | None
    user: int | None


def cursor_make(*, user: User, at: dt.datetime, hamlets: list[int], campaign: int | None) -> str:
    """An opaque, signed cursor: a client cannot forge one to learn about other hamlets."""
    payload = {
        "u": user.pk,
        "t": at.isoformat(),
        "d": timezone.localdate(at).isoformat(),
        "h": sorted(hamlets),
        "c": campaign,
    }
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def since_parse(text: str, *, user: User) -> Since:
    at: dt.datetime | None
    try:
        payload = signing.loads(text, salt=CURSOR_SALT)
    except signing.BadSignature:
        payload = None
    if isinstance(payload, dict):
        if payload.get("u") != user.pk:
            raise SinceError("this cursor belongs to another account: pull the whole list")
        at = dt.datetime.fromisoformat(payload["t"])
        return Since(
            at=at,
            day=dt.date.fromisoformat(payload["d"]),
            hamlets=frozenset(payload["h"]),
            campaign=payload["c"],
            user=payload["u"],
        )
    try:
        at = parse_datetime(text.strip().replace(" ", "+"))
    except ValueError:
        at = None
    if at is None or not 2000 <= at.year <= 2100:
        raise SinceError(
            "not a cursor from this server nor an ISO 8601 timestamp "
            "(e.g. 2026-11-29T08:00:00+07:00)"
        )
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return Since(at=at, day=timezone.localdate(at), hamlets=None, campaign=None, user=None)


@dataclass
class Pull:
    households: list[dict]
    removed: list[int]  # household ids the page must drop
    full: bool  # True: the page replaces its whole list with these households (and pages)
    cursor: str
    next_offset: int | None


def worklist_pull(
    user: User, *, since: Since | None = None, offset: int = 0, limit: int = 500
) -> Pull:
    """The user's worklist (the hamlets assigned to them), one page of it.

    Without `since`, or when the day or the current campaign changed since then (ages and
    eligibility are counted per day): the whole list (`full`), paged by offset. With `since`:
    only the households whose entry may have changed after it (a resident changed, a stage
    extract touched a resident, anyone visited the household) and every household of a
    newly assigned hamlet; `removed` (on the first page) lists the households that have no work
    left or whose hamlet is no longer assigned. Start the next pull from the cursor of the first
    page of this one.
    """
    now = timezone.now()
    campaign = current_campaign_for_user(user)
    hamlets = assigned_hamlet_ids(user)
    cursor = cursor_make(
        user=user, at=now, hamlets=hamlets, campaign=campaign.pk if campaign else None
    )
    full = (
        since is None
        or since.day != timezone.localdate(now)
        or (since.hamlets is not None and since.campaign != (campaign.pk if campaign else None))
    )
    if full or since is None:
        page = worklist_households(
            user, hamlets=hamlets, campaign=campaign, offset=offset, limit=limit + 1
        )
        more = len(page) > limit
        return Pull(page[:limit], [], True, cursor, offset + limit if more else None)

    changed, removed = _changes(user, hamlets=hamlets, since=since)
    new_hamlets = _new_hamlets(user, hamlets, since)
    rows: list[dict] = []
    if changed or new_hamlets:
        target = set(changed.values()) | new_hamlets
        rows = [
            row
            for row in worklist_households(user, hamlets=sorted(target), campaign=campaign)
            if row["id"] in changed or row["hamlet_id"] in new_hamlets
        ]
        kept = {row["id"] for row in rows}
        removed = sorted(set(removed) | {h for h in changed if h not in kept})
    page = rows[offset : offset + limit]
    more = len(rows) > offset + limit
    return Pull(
        page, removed if offset == 0 else [], False, cursor, offset + limit if more else None
    )


def _new_hamlets(user: User, hamlets: list[int], since: Since) -> set[int]:
    if since.hamlets is not None:
        return set(hamlets) - since.hamlets
    return set(
        Assignment.objects.filter(
            member__user=user, hamlet_id__in=hamlets, assigned_at__gt=since.at - OVERLAP
        ).values_list("hamlet_id", flat=True)
    )


def _changes(user: User, *, hamlets: list[int], since: Since) -> tuple[dict[int, int], list[int]]:
    """({household id: hamlet id} of households whose entry may have changed, [household ids of
    hamlets no longer assigned])."""
    after = since.at - OVERLAP
    removed: list[int] = []
    if since.hamlets:
        gone = since.hamlets - set(hamlets)
        if gone:
            removed = list(Household.objects.filter(unit_id__in=gone).values_list("id", flat=True))
    if not hamlets:
        return {}, removed
    # Stage extracts write the stage time of the file, not the time of the import: look at when
    # the import finished too (and at imports still running).
    extract = StageEvent.objects.filter(resident_id=OuterRef("pk")).filter(
        Q(at__gt=after)
        | Q(import_job__finished_at__gt=after)
        | Q(import_job__isnull=False, import_job__finished_at__isnull=True)  # still running
    )
    residents = (
        Resident.objects.filter(unit_id__in=hamlets, household__isnull=False)
        .filter(Q(updated_at__gt=after) | Exists(extract))
        .values("household_id")
    )
    visits = Visit.objects.filter(household__unit_id__in=hamlets, received_at__gt=after).values(
        "household_id"
    )
    changed = dict(
        households_for_user(user)
        .filter(unit_id__in=hamlets)
        .filter(Q(pk__in=residents) | Q(pk__in=visits))
        .values_list("id", "unit_id")
    )
    return changed, removed
