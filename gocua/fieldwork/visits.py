"""Recording visits: the web form's one visit and the phone's batch (POST /api/v1/visits/sync)
go through `visits_record`, so every rule of a visit is written once.

A phone that was offline all day sends its work in one request, and the server takes thousands
of visits a second: the checks read what they need in a fixed number of queries per call, and
the writes are set-based inserts of plain rows (a fenced fast path, like the rollups' queue).
`gocua/fieldwork/tests/test_sync_service.py` checks that a batch and the same visits recorded
one by one leave the database in the same state.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gocua.accounts.models import User
from gocua.accounts.services import audit_record
from gocua.campaigns.models import Assignment, Member
from gocua.campaigns.selectors import date_outside_message
from gocua.changes.outbox import visits_recorded
from gocua.fieldwork.models import (
    OUTCOME_CODES,
    FollowUp,
    HomeSupportRequest,
    Outcome,
    Visit,
    VisitOutcome,
)
from gocua.fieldwork.services import VisitRefused, claim_for, typed
from gocua.lib import limits
from gocua.lib.bulk import db_datetime, db_uuid, insert_objects, insert_rows, select_in
from gocua.lib.rows import db_value
from gocua.lib.text import nfc
from gocua.people.models import Household, Resident
from gocua.people.records import record_units_sql

CREATED, DUPLICATE, REJECTED = "created", "duplicate", "rejected"
OPEN_HOME_SUPPORT = (HomeSupportRequest.Status.REQUESTED, HomeSupportRequest.Status.SCHEDULED)
# How far ahead a visit may be dated (clocks on phones drift).
FUTURE_SLACK = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class NewVisit:
    """One visit as the member recorded it (parsed: types are right, values unchecked).

    `id` is the UUID the web form or the phone made (it becomes the Visit's primary key);
    `outcomes` (resident id, outcome, note), one per resident; `location` (lat, lon).
    `address`: how a refusal names the household. The web form showed it, so it names it by
    its address and the member by name; the phone's answer ('') names it by number only and
    says "you", and must not tell whether a household outside the assignment exists."""

    id: uuid.UUID | str
    household: int
    at: dt.datetime
    outcomes: tuple[tuple[int, str, str], ...]
    location: tuple[float, float] | None = None
    note: str = ""
    address: str = ""


@dataclass
class VisitResult:
    """What became of one visit: created, duplicate (already stored: nothing recorded again)
    or rejected, with the refusal's readable message, code and field."""

    id: str
    status: str  # created | duplicate | rejected
    error: str = ""
    code: str = ""  # VisitRefused.code when rejected
    field: str | None = None

    @classmethod
    def refused(cls, visit_id: object, exc: VisitRefused) -> "VisitResult":
        return cls(str(visit_id), REJECTED, exc.message, exc.code, exc.field)

    def refusal(self) -> VisitRefused:
        return VisitRefused(self.error, field=self.field, code=self.code)


def outside_assignment(visit: NewVisit, member: Member) -> VisitRefused:
    """The same refusal for a household in another commune and for one that does not exist:
    the answer must not tell them apart."""
    if visit.address:
        message = _("Hộ %(household)s không thuộc địa bàn được phân công cho %(member)s.") % {
            "household": visit.address,
            "member": member.full_name,
        }
    else:
        message = _("Hộ #%(household)s không thuộc địa bàn được phân công cho bạn.") % {
            "household": visit.household
        }
    return VisitRefused(message, field="household", code="outside_assignment")


def visits_record(
    *,
    member: Member,
    visits: Sequence[NewVisit],
    actor: User | None,
    address: str | None = None,
) -> list[VisitResult]:
    """Record visits of `member`, one result per visit in the same order. `actor` is who
    records them (the user, as `recorded_by`): the households must be in their jurisdiction;
    `actor=None` is for trusted callers (the command line, tests); `address` is the client's
    (accounts.services.client_ip) for the audit entry.

    Guarantees:
    - idempotent by visit id: an id already stored for this member and household answers
      `duplicate` (also when the household has since left the member's assignment), one stored
      for someone else is rejected (`id_conflict`); the same id twice in a call is recorded
      once, also when two requests race;
    - one bad visit is rejected alone, the others are recorded;
    - a household outside the member's assigned hamlets, or outside the actor's jurisdiction,
      is rejected (outside_assignment); so are an inactive member, a resident not in that
      household (or twice), an unknown outcome, no outcome at all, a visit dated outside the
      campaign period (the message shows it) or in the future, a text over its limit;
    - every `created` visit is committed with its effects (one transaction for the call,
      audited once: `create visit` for one visit, `create visit_batch` for more); on a
      database error nothing of the call is recorded and the exception propagates.

    Effects (`_effects`), as if the visits had been recorded one after the other: open
    follow-ups of the household are done; `not_home` leaves a follow-up for the next day at
    another time of day; `needs_home_support` a home-support request (unless one is open);
    `needs_id_card` / `no_smartphone` flag the resident; `deceased` / `moved_away` wait for a
    unit manager (status_report_confirm); claims are kept beside the confirmed stage
    (claim_for); the rollups are told once per call (`_after_visits`).
    """
    results: list[VisitResult | None] = [None] * len(visits)
    first: dict[uuid.UUID, int] = {}
    for i, visit in enumerate(visits):
        visit_id = _visit_id(visit.id)
        if visit_id is None:
            results[i] = VisitResult.refused(visit.id, _bad_id())
        else:
            first.setdefault(visit_id, i)
    pending = _not_stored(member, visits, first, results)
    accepted = _check(actor=actor, member=member, visits=visits, pending=pending, results=results)
    if accepted:
        try:
            with transaction.atomic():
                _write(actor, member, accepted, address)
        except IntegrityError:
            # A concurrent request stored one of these ids between our check and our insert:
            # record them one at a time, each settling its own race.
            for item in accepted:
                results[first[item.id]] = _write_alone(actor, member, item, address)
        else:
            for item in accepted:
                results[first[item.id]] = VisitResult(str(item.id), CREATED)
    _answer_repeats(visits, first, results)
    return results  # type: ignore[return-value]


def _visit_id(value: uuid.UUID | str) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _checked_id(visit: NewVisit) -> uuid.UUID:
    """The id of a visit past the id check: visits_record answered those without one first."""
    visit_id = _visit_id(visit.id)
    if visit_id is None:  # unreachable: a bad id never gets this far
        raise _bad_id()
    return visit_id


def _bad_id() -> VisitRefused:
    return VisitRefused(_("Mã lượt thăm không hợp lệ."), code="bad_id")


def _id_conflict() -> VisitRefused:
    return VisitRefused(
        _("Mã lượt thăm này đã được dùng cho một lượt thăm khác."), code="id_conflict"
    )


def _stored_answer(member: Member, household: int, stored: tuple, visit_id) -> VisitResult:
    """The answer for a visit whose id is already stored as (member id, household id)."""
    if stored == (member.pk, household):
        return VisitResult(str(visit_id), DUPLICATE)
    return VisitResult.refused(visit_id, _id_conflict())


def _not_stored(
    member: Member, visits: Sequence[NewVisit], first: dict[uuid.UUID, int], results: list
) -> list[int]:
    """Answers the visits already stored; returns the indexes of the others (first copies)."""
    stored = _stored_visits(list(first))
    pending: list[int] = []
    for visit_id, i in first.items():
        if visit_id in stored:
            results[i] = _stored_answer(member, visits[i].household, stored[visit_id], visit_id)
        else:
            pending.append(i)
    return pending


def _answer_repeats(visits: Sequence[NewVisit], first: dict[uuid.UUID, int], results: list) -> None:
    """Repeats of an id inside the call answer like the first copy did."""
    for i, visit in enumerate(visits):
        if results[i] is not None:
            continue
        j = first[_checked_id(visit)]
        original = results[j]
        same = visits[j].household == visit.household
        if original.status in (CREATED, DUPLICATE) and same:
            results[i] = VisitResult(str(visit.id), DUPLICATE)
        elif original.status == REJECTED:
            results[i] = VisitResult(
                str(visit.id), REJECTED, original.error, original.code, original.field
            )
        else:
            results[i] = VisitResult.refused(visit.id, _id_conflict())


class _Resident(NamedTuple):
    id: int
    household_id: int
    full_name: str
    eid_stage: str
    stage_at: dt.datetime | None


class Accepted(NamedTuple):
    """A visit that passed the checks, with what its writes need."""

    id: uuid.UUID
    visit: NewVisit
    residents: dict[int, _Resident]  # the visit's residents
    at: dt.datetime  # aware
    location: tuple[float | None, float | None]
    note: str  # as stored
    open_follow_up: bool  # its household had an open follow-up when checked


def _check(
    *,
    actor: User | None,
    member: Member,
    visits: Sequence[NewVisit],
    pending: list[int],
    results: list,
) -> list[Accepted]:
    """Every rule of a visit, for every pending visit (one query in all); refusals go into
    `results`."""
    if not pending:
        return []
    if not member.active:
        refusal = VisitRefused(_("Thành viên này không còn trong tổ."), code="inactive_member")
        for i in pending:
            results[i] = VisitResult.refused(visits[i].id, refusal)
        return []
    households, residents, open_follow_up = _households_in_scope(
        actor, member, {visits[i].household for i in pending}
    )
    campaign = member.team.campaign
    now = timezone.now()
    accepted: list[Accepted] = []
    for i in pending:
        visit = visits[i]
        try:
            if visit.household not in households:
                raise outside_assignment(visit, member)
            at = visit.at if timezone.is_aware(visit.at) else timezone.make_aware(visit.at)
            if at > now + FUTURE_SLACK:
                raise VisitRefused(
                    _("Thời điểm thăm hộ ở tương lai."), field="at", code="in_future"
                )
            message = date_outside_message(timezone.localdate(at), campaign)
            if message:
                raise VisitRefused(message, field="at", code="outside_window")
            mine = _check_outcomes(visit, residents)
            location = _check_location(visit.location)
            note = typed(visit.note, limits.NOTE, "note", VisitRefused)
        except VisitRefused as exc:
            results[i] = VisitResult.refused(visit.id, exc)
        else:
            accepted.append(
                Accepted(
                    _checked_id(visit),
                    visit,
                    mine,
                    at,
                    location,
                    note,
                    visit.household in open_follow_up,
                )
            )
    return accepted


# The phone runs these two reads on every request it sends, so they are written by hand rather
# than compiled by the ORM each time (a single-visit post spent most of its time there); only
# the jurisdiction inside them comes from the ORM (rendered once per user), so that it is
# written once.
_VISITS = Visit._meta.db_table
_HOUSEHOLDS = Household._meta.db_table
_RESIDENTS = Resident._meta.db_table
_ASSIGNMENTS = Assignment._meta.db_table
_FOLLOW_UPS = FollowUp._meta.db_table


def _stored_visits(ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int | None, int]]:
    """Visit id → (member id, household id) for the ids already stored."""
    pk = Visit._meta.pk
    keys = [pk.get_db_prep_value(i, connection) for i in ids]
    rows = select_in(
        f'SELECT "id", "member_id", "household_id" FROM "{_VISITS}" WHERE "id" {{in_}}',
        keys,
        prepared=False,  # the visits table grows fast: see select_in
    )
    return {
        pk.to_python(visit_id): (member_id, household_id)
        for visit_id, member_id, household_id in rows
    }


def _households_in_scope(
    actor: User | None, member: Member, ids: set[int]
) -> tuple[set[int], dict[int, _Resident], set[int]]:
    """Of the households `ids`, those in the actor's jurisdiction (any, for actor=None) and in
    the member's assigned hamlets; all their residents; those with an open follow-up."""
    scope_sql, scope_params = "", ()
    if actor is not None:
        scope = record_units_sql(actor)  # the jurisdiction's own queryset, rendered
        if scope is None:
            return set(), {}, set()
        sql, scope_params = scope
        sql = sql.replace("{", "{{").replace("}", "}}")  # select_in formats the SQL
        scope_sql = f'h."unit_id" IN ({sql}) AND '
    rows = select_in(
        f'SELECT h."id", r."id", r."full_name", r."eid_stage", r."stage_at",'
        f' EXISTS (SELECT 1 FROM "{_FOLLOW_UPS}" f WHERE f."household_id" = h."id"'
        ' AND f."status" = %s)'
        f' FROM "{_HOUSEHOLDS}" h'
        f' LEFT JOIN "{_RESIDENTS}" r ON r."household_id" = h."id"'
        f' WHERE {scope_sql}h."unit_id" IN'
        f' (SELECT "hamlet_id" FROM "{_ASSIGNMENTS}" WHERE "member_id" = %s) AND h."id" {{in_}}',
        list(ids),
        (FollowUp.Status.OPEN, *scope_params, member.pk),
    )
    stage_at = Resident._meta.get_field("stage_at")
    households: set[int] = set()
    residents: dict[int, _Resident] = {}
    open_follow_up: set[int] = set()
    for household, resident, name, stage, at, has_open in rows:
        households.add(household)
        if resident is not None:
            # db_value converts as the ORM would: for stage_at, a datetime or None.
            residents[resident] = _Resident(
                resident, household, name, stage, cast(dt.datetime | None, db_value(stage_at, at))
            )
        if has_open:
            open_follow_up.add(household)
    return households, residents, open_follow_up


def _not_in_household(visit: NewVisit) -> VisitRefused:
    name = visit.address or f"#{visit.household}"
    return VisitRefused(
        _("Có người không thuộc hộ %(household)s.") % {"household": name},
        code="not_in_household",
    )


def _check_outcomes(visit: NewVisit, residents: dict[int, _Resident]) -> dict[int, _Resident]:
    if not visit.outcomes:
        raise VisitRefused(_("Hãy ghi kết quả cho ít nhất một người."), code="no_outcome")
    try:
        ids = [int(resident_id) for resident_id, _outcome, _note in visit.outcomes]
    except (TypeError, ValueError):
        raise _not_in_household(visit) from None
    if len(set(ids)) != len(ids):
        raise VisitRefused(_("Mỗi người chỉ ghi một kết quả."), code="duplicate_resident")
    for _resident_id, outcome, note in visit.outcomes:
        typed(note, limits.OUTCOME_NOTE, "outcomes", VisitRefused)
        if outcome not in OUTCOME_CODES:
            raise VisitRefused(
                _("Kết quả không hợp lệ: %(outcome)s.") % {"outcome": outcome},
                code="unknown_outcome",
            )
    mine = {
        rid: residents[rid]
        for rid in ids
        if rid in residents and residents[rid].household_id == visit.household
    }
    if len(mine) != len(ids):
        raise _not_in_household(visit)
    return mine


def _check_location(location: tuple[float, float] | None) -> tuple[float | None, float | None]:
    if location is None:
        return None, None
    lat, lon = float(location[0]), float(location[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise VisitRefused(_("Toạ độ không hợp lệ."), field="location", code="bad_location")
    return lat, lon


class _Recorded(NamedTuple):
    """A visit as `_insert` wrote it, for its effects."""

    id: uuid.UUID
    household: int
    at: dt.datetime
    outcomes: list[tuple[int, str, str]]  # (resident id, outcome, note as stored)


def _columns(model, *names: str) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


# What is written; the other columns keep their defaults (NULL: not reviewed yet).
_VISIT_COLUMNS = _columns(
    Visit, "id", "household", "member", "recorded_by", "at", "received_at", "note", "lat", "lon"
)
_OUTCOME_COLUMNS = _columns(
    VisitOutcome,
    "visit",
    "resident",
    "outcome",
    "note",
    "claimed_stage",
    "skipped_from",
    "confirmed_at",
    "review",
)


def _write(
    actor: User | None, member: Member, accepted: list[Accepted], address: str | None
) -> None:
    """The audit entry, then the visits and their effects; the caller holds the transaction.
    The audit entry first: `_insert` ends with the rollups, which hold their lock until the
    commit, and every statement after them lengthens the wait of the other phones' posts."""
    _audit(actor, accepted, address)
    _insert(actor=actor, member=member, accepted=accepted)


def _write_alone(
    actor: User | None, member: Member, item: Accepted, address: str | None
) -> VisitResult:
    """One visit of a call that lost a race, in its own savepoint: created, or the answer for
    the copy another request stored first."""
    try:
        with transaction.atomic():
            _write(actor, member, [item], address)
    except IntegrityError:
        stored = _stored_visits([item.id]).get(item.id)
        if stored is None:
            raise
        return _stored_answer(member, item.visit.household, stored, item.id)
    return VisitResult(str(item.id), CREATED)


def _insert(*, actor: User | None, member: Member, accepted: list[Accepted]) -> None:
    """Visits, outcomes and their effects, in bulk. Rows of plain values (insert_rows), not
    model instances: building and preparing those took over a third of a 100-visit batch's
    server time (bench/sync.py: 18-21 -> 12-13 ms)."""
    now = timezone.now()
    received = db_datetime(now)
    recorded_by = actor.pk if actor is not None else None
    visit_rows: list[tuple] = []
    outcome_rows: list[tuple] = []
    recorded: list[_Recorded] = []
    for item in accepted:
        key, (lat, lon), at = db_uuid(item.id), item.location, item.at
        visit_rows.append(
            (
                key,
                item.visit.household,
                member.pk,
                recorded_by,
                db_datetime(at),
                received,
                item.note,
                lat,
                lon,
            )
        )
        outcomes = []
        for resident_id, outcome, note in item.visit.outcomes:
            resident = item.residents[int(resident_id)]
            claim = claim_for(outcome, resident.eid_stage)
            # Already shown by the registry: nothing for an extract to confirm.
            confirmed_at = (resident.stage_at or at) if claim.confirmed else None
            note = nfc(note or "")  # its length was checked by _check_outcomes
            outcome_rows.append(
                (
                    key,
                    resident.id,
                    outcome,
                    note,
                    claim.stage,
                    claim.skipped_from,
                    db_datetime(confirmed_at),
                    "",
                )
            )
            outcomes.append((resident.id, outcome, note))
        recorded.append(_Recorded(item.id, item.visit.household, at, outcomes))
    insert_rows(_VISITS, _VISIT_COLUMNS, visit_rows)
    insert_rows(VisitOutcome._meta.db_table, _OUTCOME_COLUMNS, outcome_rows)
    _effects(
        recorded=recorded,
        names={r.id: r.full_name for item in accepted for r in item.residents.values()},
        member=member,
        now=now,
        open_follow_up={item.visit.household for item in accepted if item.open_follow_up},
    )
    _after_visits(recorded)


def _after_visits(recorded: list[_Recorded]) -> None:
    """Follow-on work owned by other apps, once per call for all its created visits, inside
    its transaction. Once per visit would be wrong after a bulk insert: each call would take
    the other visits as "seen earlier", so a household reached twice would never count."""
    # The rollups' outbox (gocua.changes): the worker counts the visits' flows, households
    # reached and claims.
    visits_recorded([r.id for r in recorded])


def time_of_day(at: dt.datetime) -> FollowUp.TimeOfDay:
    """The time of day of a moment, where the visit happened (morning, afternoon, evening)."""
    hour = timezone.localtime(at).hour
    if hour < 12:
        return FollowUp.TimeOfDay.MORNING
    if hour < 17:
        return FollowUp.TimeOfDay.AFTERNOON
    return FollowUp.TimeOfDay.EVENING


# Come back at another time of day: people out in the morning are often in in the evening.
NEXT_TIME_OF_DAY = {
    FollowUp.TimeOfDay.MORNING: FollowUp.TimeOfDay.EVENING,
    FollowUp.TimeOfDay.AFTERNOON: FollowUp.TimeOfDay.EVENING,
    FollowUp.TimeOfDay.EVENING: FollowUp.TimeOfDay.MORNING,
}


def _effects(
    *,
    recorded: list[_Recorded],
    names: dict[int, str],
    member: Member,
    now: dt.datetime,
    open_follow_up: set[int],
) -> None:
    """The visits' effects as if they had been recorded one after the other.
    `open_follow_up`: the households that had an open follow-up when the call was checked."""
    # Someone came: open follow-ups of these households are done. Most households have none,
    # and the check already said which do: no UPDATE at all on most phone posts.
    if open_follow_up:
        with connection.cursor() as cursor:
            placeholders = ", ".join(["%s"] * len(open_follow_up))
            cursor.execute(
                f'UPDATE "{_FOLLOW_UPS}" SET "status" = %s, "done_at" = %s'
                f' WHERE "status" = %s AND "household_id" IN ({placeholders})',
                [FollowUp.Status.DONE, db_datetime(now), FollowUp.Status.OPEN, *open_follow_up],
            )
    insert_objects(_not_home_follow_ups(recorded, names, member, now))
    _home_support_requests(recorded)
    for flag, outcome in (
        ("needs_id_card", Outcome.NEEDS_ID_CARD),
        ("no_smartphone", Outcome.NO_SMARTPHONE),
    ):
        ids = {r for visit in recorded for r, o, _note in visit.outcomes if o == outcome}
        if ids:
            Resident.objects.filter(pk__in=ids).update(**{flag: True, "updated_at": now})


def _not_home_follow_ups(
    recorded: list[_Recorded], names: dict[int, str], member: Member, now: dt.datetime
) -> list[FollowUp]:
    """Nobody home: come back within three days (the next day) at another time of day."""
    last_visit = {v.household: n for n, v in enumerate(recorded)}
    follow_ups = []
    for n, visit in enumerate(recorded):
        not_home = [r for r, outcome, _note in visit.outcomes if outcome == Outcome.NOT_HOME]
        if not not_home:
            continue
        # A later visit to the same household closes this follow-up, as it would have had it
        # come in its own request.
        closed = last_visit[visit.household] != n
        follow_ups.append(
            FollowUp(
                household_id=visit.household,
                resident_id=not_home[0] if len(not_home) == 1 else None,
                visit_id=visit.id,
                member_id=member.pk,
                due_date=timezone.localdate(visit.at) + dt.timedelta(days=1),
                time_of_day=NEXT_TIME_OF_DAY[time_of_day(visit.at)],
                reason=(
                    _("Không có nhà: %(names)s") % {"names": ", ".join(names[r] for r in not_home)}
                )[:200],
                status=FollowUp.Status.DONE if closed else FollowUp.Status.OPEN,
                done_at=now if closed else None,
            )
        )
    return follow_ups


def _home_support_requests(recorded: list[_Recorded]) -> None:
    """A home-support request per resident who needs one, unless one is open already."""
    support = [
        (visit, resident, note)
        for visit in recorded
        for resident, outcome, note in visit.outcomes
        if outcome == Outcome.NEEDS_HOME_SUPPORT
    ]
    if not support:
        return
    already = set(
        HomeSupportRequest.objects.filter(
            resident_id__in=[resident for _v, resident, _note in support],
            status__in=OPEN_HOME_SUPPORT,
        ).values_list("resident_id", flat=True)
    )
    requests = []
    for visit, resident, note in support:
        if resident in already:
            continue
        already.add(resident)
        requests.append(
            HomeSupportRequest(
                resident_id=resident, visit_id=visit.id, reason=note, requested_at=visit.at
            )
        )
    HomeSupportRequest.objects.bulk_create(requests)


def _audit(actor: User | None, accepted: list[Accepted], address: str | None) -> None:
    """One entry per call: the visit itself when there is one, the batch's counts otherwise."""
    object_id: uuid.UUID | int
    detail: dict[str, object]
    if len(accepted) == 1:
        object_type, object_id = "visit", accepted[0].id
        detail = {"outcomes": len(accepted[0].visit.outcomes)}
    else:
        object_type, object_id = "visit_batch", len(accepted)
        detail = {
            "visits": len(accepted),
            "households": len({item.visit.household for item in accepted}),
            "first": str(accepted[0].id),
        }
    audit_record(
        user=actor,
        command_line=actor is None and address is None,
        action="create",
        object_type=object_type,
        object_id=object_id,
        unit=actor.unit if actor is not None else None,
        ip=address,
        detail=detail,
    )
