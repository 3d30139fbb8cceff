"""The visit sync: a batch of visits sent by the field page's phone (POST /api/v1/visits/sync).

`visits_sync` gives every visit of a batch the treatment `gocua.fieldwork.services.visit_record`
gives one visit (the same checks in the same order, the same messages, the same effects), but in
a fixed number of queries per batch instead of about ten per visit: a phone that was offline all
day sends its work in one request, and the server takes thousands of visits a second.
`gocua/fieldwork/tests/test_sync_service.py` checks that a batch and the same visits recorded one by
one with visit_record leave the database in the same state.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gocua.accounts.models import User
from gocua.accounts.services import audit_record
from gocua.campaigns.models import Assignment, Member
from gocua.campaigns.selectors import date_outside_message
from gocua.fieldwork.models import (
    OUTCOME_CODES,
    FollowUp,
    HomeSupportRequest,
    Outcome,
    Visit,
    VisitOutcome,
)
from gocua.fieldwork.services import (
    FUTURE_SLACK,
    NEXT_TIME_OF_DAY,
    VisitRefused,
    claim_for,
    time_of_day,
    typed,
    visit_record,
)
from gocua.lib import limits
from gocua.lib.bulk import db_datetime, db_uuid, insert_objects, insert_rows, select_in
from gocua.lib.rows import db_value
from gocua.lib.text import nfc
from gocua.people.models import Household, Resident
from gocua.people.records import record_units_sql

CREATED, DUPLICATE, REJECTED = "created", "duplicate", "rejected"
OPEN_HOME_SUPPORT = (HomeSupportRequest.Status.REQUESTED, HomeSupportRequest.Status.SCHEDULED)


@dataclass(frozen=True)
class SyncVisit:
    """One visit as the phone recorded it (already parsed: types are right, values unchecked)."""

    id: uuid.UUID
    household: int
    at: dt.datetime
    outcomes: tuple[tuple[int, str, str], ...]  # (resident id, outcome, note)
    location: tuple[float, float] | None = None


@dataclass
class SyncResult:
    id: str
    status: str  # created | duplicate | rejected
    error: str = ""
    code: str = ""  # VisitRefused.code when rejected

    @classmethod
    def refused(cls, visit_id: object, exc: VisitRefused) -> "SyncResult":
        return cls(str(visit_id), REJECTED, exc.message, exc.code)


def outside_assignment(household_id: object) -> VisitRefused:
    """The same refusal for a household in another commune and for one that does not exist:
    the answer must not tell them apart."""
    return VisitRefused(
        _("Hộ #%(household)s không thuộc địa bàn được phân công cho bạn.")
        % {"household": household_id},
        field="household",
        code="outside_assignment",
    )


def visits_sync(
    *, user: User, member: Member, visits: Sequence[SyncVisit], request=None
) -> list[SyncResult]:
    """Record a batch of visits of `member` (the user's own membership), one result per visit
    in the same order: `created`, `duplicate` or `rejected` with a readable reason.

    Guarantees:
    - idempotent by visit id: an id already stored for this member and household answers
      `duplicate` (also when the household has since left the member's assignment), one stored
      for someone else is rejected (`id_conflict`); the same id twice in a batch is recorded once;
    - one bad visit is rejected alone, the others are recorded;
    - a household outside the member's assigned hamlets, or outside the user's jurisdiction, is
      rejected with the same message whether it exists or not;
    - every `created` visit is committed when this returns (one transaction for the batch,
      audited once as `create visit_batch`); on a database error nothing of the batch is
      recorded and the exception propagates (the phone sends the batch again);
    - visits are append-only: two members' visits to the same household are both kept.
    """
    results: list[SyncResult | None] = [None] * len(visits)
    first: dict[uuid.UUID, int] = {}
    for i, visit in enumerate(visits):
        first.setdefault(visit.id, i)

    stored = _stored_visits(list(first))
    pending: list[int] = []
    for visit_id, i in first.items():
        if visit_id not in stored:
            pending.append(i)
            continue
        member_id, household_id = stored[visit_id]
        if member_id == member.pk and household_id == visits[i].household:
            results[i] = SyncResult(str(visit_id), DUPLICATE)
        else:
            results[i] = SyncResult.refused(visit_id, _id_conflict())

    accepted = _check(user=user, member=member, visits=visits, pending=pending, results=results)
    if accepted:
        try:
            with transaction.atomic():
                # The audit entry first: `_insert` ends with the rollups, which hold their
                # lock until the commit, and every statement after them lengthens the wait of
                # the other phones' posts.
                _audit(user, accepted, request)
                _insert(user=user, member=member, accepted=accepted)
        except IntegrityError:
            # A concurrent request stored one of these ids between our check and our insert:
            # record them one by one; visit_record settles each race on its own.
            for visit, *_rest in accepted:
                results[first[visit.id]] = _one_by_one(user=user, member=member, visit=visit)
        else:
            for visit, *_rest in accepted:
                results[first[visit.id]] = SyncResult(str(visit.id), CREATED)

    # Repeats of an id inside the batch answer like the first copy did.
    for i, visit in enumerate(visits):
        if results[i] is not None:
            continue
        original = results[first[visit.id]]
        same = visits[first[visit.id]].household == visit.household
        if original.status in (CREATED, DUPLICATE) and same:
            results[i] = SyncResult(str(visit.id), DUPLICATE)
        elif original.status == REJECTED:
            results[i] = SyncResult(str(visit.id), REJECTED, original.error, original.code)
        else:
            results[i] = SyncResult.refused(visit.id, _id_conflict())
    return results


def _id_conflict() -> VisitRefused:
    return VisitRefused(
        _("Mã lượt thăm này đã được dùng cho một lượt thăm khác."), code="id_conflict"
    )


class _Resident(NamedTuple):
    id: int
    household_id: int
    full_name: str
    eid_stage: str
    stage_at: dt.datetime | None


# (visit, its residents, when, where, whether its household has an open follow-up)
Accepted = tuple[
    SyncVisit, dict[int, _Resident], dt.datetime, tuple[float | None, float | None], bool
]


def _check(
    *,
    user: User,
    member: Member,
    visits: Sequence[SyncVisit],
    pending: list[int],
    results: list,
) -> list[Accepted]:
    """visit_record's checks, in its order, for every pending visit (three queries in all)."""
    if not pending:
        return []
    if not member.active:
        refusal = VisitRefused(_("Thành viên này không còn trong tổ."), code="inactive_member")
        for i in pending:
            results[i] = SyncResult.refused(visits[i].id, refusal)
        return []
    # The households in scope with all their residents, in one query.
    households: set[int] = set()
    open_follow_up: set[int] = set()
    residents: dict[int, _Resident] = {}
    for row in _households_in_scope(user, member, {visits[i].household for i in pending}):
        households.add(row[0])
        if row[1] is not None:
            residents[row[1]] = _Resident(row[1], row[0], row[2], row[3], row[4])
        if row[5]:
            open_follow_up.add(row[0])
    campaign = member.team.campaign
    now = timezone.now()
    accepted: list[Accepted] = []
    for i in pending:
        visit = visits[i]
        try:
            if visit.household not in households:
                raise outside_assignment(visit.household)
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
        except VisitRefused as exc:
            results[i] = SyncResult.refused(visit.id, exc)
        else:
            accepted.append((visit, mine, at, location, visit.household in open_follow_up))
    return accepted


# The sync runs these two reads for every request a phone sends, so they are written by hand
# rather than compiled by the ORM each time (a single-visit post spent most of its time there);
# only the jurisdiction inside them comes from the ORM (rendered once per user), so that it is
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


def _households_in_scope(user: User, member: Member, ids: set[int]) -> list[tuple]:
    """(household id, resident id, name, stage, stage_at, has an open follow-up) of the
    households among `ids` in the user's jurisdiction and in the member's assigned hamlets
    (resident None for an empty one)."""
    scope = record_units_sql(user)  # the jurisdiction's own queryset, rendered
    if scope is None:
        return []
    scope_sql, scope_params = scope
    scope_sql = scope_sql.replace("{", "{{").replace("}", "}}")  # select_in formats the SQL
    rows = select_in(
        f'SELECT h."id", r."id", r."full_name", r."eid_stage", r."stage_at",'
        f' EXISTS (SELECT 1 FROM "{_FOLLOW_UPS}" f WHERE f."household_id" = h."id"'
        ' AND f."status" = %s)'
        f' FROM "{_HOUSEHOLDS}" h'
        f' LEFT JOIN "{_RESIDENTS}" r ON r."household_id" = h."id"'
        f' WHERE h."unit_id" IN ({scope_sql}) AND h."unit_id" IN'
        f' (SELECT "hamlet_id" FROM "{_ASSIGNMENTS}" WHERE "member_id" = %s) AND h."id" {{in_}}',
        list(ids),
        (FollowUp.Status.OPEN, *scope_params, member.pk),
    )
    stage_at = Resident._meta.get_field("stage_at")
    return [(*row[:4], db_value(stage_at, row[4]), row[5]) for row in rows]


def _check_outcomes(visit: SyncVisit, residents: dict[int, _Resident]) -> dict[int, _Resident]:
    if not visit.outcomes:
        raise VisitRefused(_("Hãy ghi kết quả cho ít nhất một người."), code="no_outcome")
    ids = [int(resident_id) for resident_id, _outcome, _note in visit.outcomes]
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
        raise VisitRefused(
            _("Có người không thuộc hộ #%(household)s.") % {"household": visit.household},
            code="not_in_household",
        )
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


# What the sync writes; the other columns keep their defaults (NULL: not reviewed yet).
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


def _insert(*, user: User, member: Member, accepted: list[Accepted]) -> None:
    """Visits, outcomes and visit_record's effects, in bulk; the caller holds the transaction.
    Rows of plain values (insert_rows), not model instances: building and preparing those took
    over a third of a 100-visit batch's server time (bench/sync.py: 18-21 -> 12-13 ms)."""
    now = timezone.now()
    received = db_datetime(now)
    visit_rows: list[tuple] = []
    outcome_rows: list[tuple] = []
    recorded: list[_Recorded] = []
    for visit, residents, at, (lat, lon), _open in accepted:
        key = db_uuid(visit.id)
        visit_rows.append(
            (key, visit.household, member.pk, user.pk, db_datetime(at), received, "", lat, lon)
        )
        outcomes = []
        for resident_id, outcome, note in visit.outcomes:
            resident = residents[int(resident_id)]
            claim = claim_for(outcome, resident.eid_stage)
            # Already shown by the registry: nothing for an extract to confirm.
            confirmed_at = (resident.stage_at or at) if claim.confirmed else None
            note = nfc(note or "")  # its length was checked by _check_outcomes
            outcome_rows.append(
                (key, resident.id, outcome, note, claim.stage, claim.skipped_from,
                 db_datetime(confirmed_at), "")
            )  # fmt: skip
            outcomes.append((resident.id, outcome, note))
        recorded.append(_Recorded(visit.id, visit.household, at, outcomes))
    insert_rows(_VISITS, _VISIT_COLUMNS, visit_rows)
    insert_rows(VisitOutcome._meta.db_table, _OUTCOME_COLUMNS, outcome_rows)
    names = {r.id: r.full_name for _v, residents, *_rest in accepted for r in residents.values()}
    _effects(
        recorded=recorded,
        names=names,
        member=member,
        now=now,
        open_follow_up={visit.household for visit, *_rest, is_open in accepted if is_open},
    )
    # visit_record's `_after_visit` hook, for the whole batch at once. Calling the hook once per
    # visit after a bulk insert would be wrong: each call takes the batch's other visits as
    # "seen earlier", so a household reached twice in the batch would never count as reached.
    from gocua.reports.rollups import rollup_visits_recorded

    rollup_visits_recorded([r.id for r in recorded])


def _effects(
    *,
    recorded: list[_Recorded],
    names: dict[int, str],
    member: Member,
    now: dt.datetime,
    open_follow_up: set[int],
) -> None:
    """visit_record's effects as if the visits had been recorded one after the other.
    `open_follow_up`: the households that had an open follow-up when the batch was checked."""
    # Someone came: open follow-ups of these households are done. Most households have none,
    # and the check already said which do: no UPDATE at all on most phone posts.
    if open_follow_up:
        with connection.cursor() as cursor:
            placeholders = ", ".join(["%s"] * len(open_follow_up))
            cursor.execute(
                f'UPDATE "{FollowUp._meta.db_table}" SET "status" = %s, "done_at" = %s'
                f' WHERE "status" = %s AND "household_id" IN ({placeholders})',
                [FollowUp.Status.DONE, db_datetime(now), FollowUp.Status.OPEN, *open_follow_up],
            )
    last_visit = {v.household: n for n, v in enumerate(recorded)}
    follow_ups, support = [], []
    for n, visit in enumerate(recorded):
        not_home = [
            resident for resident, outcome, _note in visit.outcomes if outcome == Outcome.NOT_HOME
        ]
        if not_home:
            # A later visit of the batch to the same household closes this follow-up, as it
            # would have had it come in its own request.
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
                        _("Không có nhà: %(names)s")
                        % {"names": ", ".join(names[r] for r in not_home)}
                    )[:200],
                    status=FollowUp.Status.DONE if closed else FollowUp.Status.OPEN,
                    done_at=now if closed else None,
                )
            )
        support.extend(
            (visit, resident, note)
            for resident, outcome, note in visit.outcomes
            if outcome == Outcome.NEEDS_HOME_SUPPORT
        )
    insert_objects(follow_ups)

    if support:
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

    for flag, outcome in (
        ("needs_id_card", Outcome.NEEDS_ID_CARD),
        ("no_smartphone", Outcome.NO_SMARTPHONE),
    ):
        ids = {r for visit in recorded for r, o, _note in visit.outcomes if o == outcome}
        if ids:
            Resident.objects.filter(pk__in=ids).update(**{flag: True, "updated_at": now})


def _audit(user: User, accepted: list[Accepted], request) -> None:
    audit_record(
        user=user,
        action="create",
        object_type="visit_batch",
        object_id=len(accepted),
        unit=user.unit,
        request=request,
        detail={
            "visits": len(accepted),
            "households": len({visit.household for visit, *_rest in accepted}),
            "first": str(accepted[0][0].id),
        },
    )


def _one_by_one(*, user: User, member: Member, visit: SyncVisit) -> SyncResult:
    household = Household.objects.filter(pk=visit.household).first()
    if household is None:
        return SyncResult.refused(visit.id, outside_assignment(visit.household))
    try:
        stored, created = visit_record(
            member=member,
            household=household,
            at=visit.at,
            outcomes=list(visit.outcomes),
            location=visit.location,
            client_id=visit.id,
            recorded_by=user,
        )
    except VisitRefused as exc:
        return SyncResult.refused(visit.id, exc)
    if created:
        audit_record(
            user=user,
            action="create",
            object_type="visit",
            object_id=stored.pk,
            unit=user.unit,
            detail={"outcomes": len(visit.outcomes)},
        )
    return SyncResult(str(visit.id), CREATED if created else DUPLICATE)
