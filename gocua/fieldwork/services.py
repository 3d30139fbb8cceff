"""Writes for field work: claims, follow-ups, home support, reports of deaths and moves,
outreach events and trainings (visits themselves are recorded by gocua.fieldwork.visits, with
the claim rules and refusals defined here).

Services are keyword-only and each runs in one transaction. `actor`, when given, is checked
(a unit manager of the object's unit, or for follow-ups the member themself); `actor=None` is
for trusted callers. Writes are audited here, whoever calls (web, API, command line):
`address` is the client's address (accounts.services.client_ip) for a web or API call, and no
actor with no address is the command line. Refusals raise `VisitRefused` / `OperationRefused` with a readable
message (and `.code`, `.field`).
"""

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gocua.accounts.models import User
from gocua.accounts.services import audit_change
from gocua.campaigns.models import Affiliation, Campaign, Member, Team
from gocua.campaigns.selectors import (
    current_campaign,
    date_outside_message,
    manages_unit,
)
from gocua.campaigns.services import NotAllowed, OperationRefused, require_manager_of
from gocua.changes.outbox import residents_changed
from gocua.fieldwork.models import (
    CLAIM_STAGE,
    STATUS_OUTCOMES,
    FollowUp,
    HomeSupportRequest,
    Outcome,
    OutreachEvent,
    Review,
    TrainingAttendance,
    TrainingSession,
    Visit,
    VisitOutcome,
)
from gocua.geo.models import AdminUnit
from gocua.lib import limits
from gocua.lib.text import nfc
from gocua.people.funnel import RANK
from gocua.people.models import Resident

# The furthest funnel step a volunteer can really have helped with, by confirmed stage.
# Approval is the authority's step, not a volunteer's (and a registered dossier may have been
# approved since the last extract), so after `registered` the next step to help with is
# activating the account.
CLAIMABLE_AFTER = {
    "none": "registered",
    "failed": "registered",
    "registered": "activated",
    "approved": "activated",
    "activated": "used",
    "used": "used",
}


class Claim(NamedTuple):
    """How one outcome is recorded as a claim (claim_for)."""

    stage: str  # the stage recorded as claimed ("" when the outcome claims nothing)
    skipped_from: str  # what the volunteer claimed, when that skipped a step; else ""
    confirmed: bool  # the registry already shows the recorded stage


def claim_for(outcome: str, confirmed_stage: str) -> Claim:
    """The claim an outcome makes for a resident whose confirmed stage is `confirmed_stage`.

    The rule for a claim that skips a step (e.g. "guided to use" for someone the registry
    shows as approved, not activated): it is not refused, since the visit and the help were
    real, but recorded as the step it can really be, the next one after the confirmed stage
    (CLAIMABLE_AFTER: here `activated`), with `skipped_from` keeping what was claimed. The
    rollups count it as that step, and the claims and reconciliation pages list it apart.
    Used by visits_record (gocua.fieldwork.visits) for every visit, from any path."""
    claimed = CLAIM_STAGE.get(outcome, "")
    if not claimed:
        return Claim("", "", False)
    if RANK.get(confirmed_stage, 0) >= RANK[claimed]:
        return Claim(claimed, "", True)
    reachable = CLAIMABLE_AFTER.get(confirmed_stage, "registered")
    if RANK[claimed] > RANK[reachable]:
        return Claim(reachable, claimed, False)
    return Claim(claimed, "", False)


def typed(
    text: str | None, limit: int, field: str, error: type[OperationRefused] = OperationRefused
) -> str:
    """Text a person typed, as stored: NFC, and refused (never cut) when longer than `limit`.
    Forms and the API refuse it first with the same limits (gocua.lib.limits); this is the rule
    for every caller, the batch sync included (`error=VisitRefused` rejects that visit alone)."""
    text = nfc(text or "")
    refusal = limits.over_limit(text, limit)
    if refusal:
        raise error(refusal, field=field, code="too_long")
    return text


class VisitRefused(OperationRefused):
    """A visit that cannot be recorded. `code` is one of: outside_assignment,
    not_in_household, unknown_outcome, outside_window, in_future, no_outcome,
    duplicate_resident, inactive_member, id_conflict, bad_id, bad_location."""


def _check_window(day: dt.date, campaign: Campaign | None, *, field: str = "date") -> None:
    if campaign is None:
        raise OperationRefused(_("Chưa có chiến dịch hiện hành."), field=field, code="no_campaign")
    message = date_outside_message(day, campaign)
    if message:
        raise OperationRefused(message, field=field, code="outside_window")


# --- claims ----------------------------------------------------------------------------------


def claims_confirm(*, stages: dict[int, tuple[str, dt.datetime]]) -> int:
    """Mark open claims confirmed where an extract now shows the claimed stage (or later).

    Called by the stage import inside its transaction. Returns how many claims it confirmed.
    A `failed` dossier confirms a `registered` claim (the dossier was received)."""
    if not stages:
        return 0
    confirmed = []
    ids = list(stages)
    for start in range(0, len(ids), 5000):
        open_claims = (
            VisitOutcome.objects.filter(
                resident_id__in=ids[start : start + 5000], confirmed_at__isnull=True
            )
            .exclude(claimed_stage="")
            .only("id", "resident_id", "claimed_stage")
        )
        for claim in open_claims:
            stage, at = stages[claim.resident_id]
            if RANK.get(stage, 0) >= RANK.get(claim.claimed_stage, 99):
                claim.confirmed_at = at or timezone.now()
                confirmed.append(claim)
    VisitOutcome.objects.bulk_update(confirmed, ["confirmed_at"], batch_size=500)
    return len(confirmed)


# --- reports of deaths and moves -------------------------------------------------------------


@transaction.atomic
def status_report_confirm(
    *, outcome: VisitOutcome, actor: User | None = None, address: str | None = None
) -> Resident:
    """A unit manager confirms a `deceased` / `moved_away` outcome: the resident is marked
    deceased / moved out (and so no longer eligible), every pending report of the same kind
    for that resident is closed as confirmed, and the resident's open home-support requests
    are cancelled."""
    resident = (
        Resident.objects.select_for_update().select_related("unit").get(pk=outcome.resident_id)
    )
    require_manager_of(actor, resident.unit)
    if outcome.outcome not in STATUS_OUTCOMES:
        raise OperationRefused(_("Kết quả này không cần xác nhận."))
    if outcome.review:
        raise OperationRefused(_("Báo cáo này đã được xử lý."), code="already_reviewed")
    now = timezone.now()
    if outcome.outcome == Outcome.DECEASED:
        resident.deceased = True
        resident.save(update_fields=["deceased", "updated_at"])
        reason = _("Người dân đã mất")
    else:
        resident.moved_out = True
        resident.save(update_fields=["moved_out", "updated_at"])
        reason = _("Người dân đã chuyển đi")
    VisitOutcome.objects.filter(
        resident=resident, outcome=outcome.outcome, review=Review.PENDING
    ).update(review=Review.CONFIRMED, reviewed_at=now, reviewed_by=actor)
    HomeSupportRequest.objects.filter(
        resident=resident,
        status__in=(HomeSupportRequest.Status.REQUESTED, HomeSupportRequest.Status.SCHEDULED),
    ).update(status=HomeSupportRequest.Status.CANCELLED, closed_at=now, close_reason=reason)
    outcome.review = Review.CONFIRMED
    # Rollups (reports): a death or a move takes the resident out of every denominator.
    residents_changed([resident.pk])
    _audit_report(actor, outcome, resident, address)
    return resident


@transaction.atomic
def status_report_dismiss(
    *, outcome: VisitOutcome, actor: User | None = None, address: str | None = None
) -> VisitOutcome:
    """A unit manager finds a reported death or move wrong: the registry stays as it is."""
    resident = Resident.objects.select_related("unit").get(pk=outcome.resident_id)
    require_manager_of(actor, resident.unit)
    if outcome.review:
        raise OperationRefused(_("Báo cáo này đã được xử lý."), code="already_reviewed")
    outcome.review = Review.DISMISSED
    outcome.reviewed_at = timezone.now()
    outcome.reviewed_by = actor
    outcome.save(update_fields=["review", "reviewed_at", "reviewed_by"])
    _audit_report(actor, outcome, resident, address)
    return outcome


def _audit_report(
    actor: User | None, outcome: VisitOutcome, resident: Resident, address: str | None
) -> None:
    audit_change(
        actor=actor,
        action="update",
        obj=resident,
        unit=resident.unit,
        address=address,
        detail={"report": outcome.outcome, "review": outcome.review},
    )


# --- follow-ups ------------------------------------------------------------------------------


def _may_handle_follow_up(actor: User | None, follow_up: FollowUp) -> None:
    if actor is None:
        return
    if follow_up.member is not None and follow_up.member.user_id == actor.pk:
        return
    if manages_unit(actor, follow_up.household.unit):
        return
    raise NotAllowed


@transaction.atomic
def follow_up_done(
    *, follow_up: FollowUp, actor: User | None = None, address: str | None = None
) -> FollowUp:
    """Close an open follow-up as done (its member or a manager of the household's unit)."""
    _may_handle_follow_up(actor, follow_up)
    if follow_up.status != FollowUp.Status.OPEN:
        raise OperationRefused(_("Lịch hẹn này đã được xử lý."), code="not_open")
    follow_up.status = FollowUp.Status.DONE
    follow_up.done_at = timezone.now()
    follow_up.save(update_fields=["status", "done_at"])
    audit_change(
        actor=actor,
        action="update",
        obj=follow_up,
        unit=follow_up.household.unit,
        address=address,
        detail={"status": "done"},
    )
    return follow_up


@transaction.atomic
def follow_up_reschedule(
    *,
    follow_up: FollowUp,
    due_date: dt.date,
    time_of_day: str,
    actor: User | None = None,
    on: dt.date | None = None,
    address: str | None = None,
) -> FollowUp:
    """Move an open follow-up to another day (today or later, inside the campaign period):
    the old one is kept as `rescheduled`, a new open one is returned."""
    _may_handle_follow_up(actor, follow_up)
    if follow_up.status != FollowUp.Status.OPEN:
        raise OperationRefused(_("Lịch hẹn này đã được xử lý."), code="not_open")
    if time_of_day not in FollowUp.TimeOfDay.values:
        raise OperationRefused(_("Buổi không hợp lệ."), field="time_of_day")
    on = on or timezone.localdate()
    if due_date < on:
        raise OperationRefused(_("Ngày hẹn mới phải từ hôm nay trở đi."), field="due_date")
    campaign = (
        follow_up.member.team.campaign
        if follow_up.member
        else current_campaign(follow_up.household.unit)
    )
    _check_window(due_date, campaign, field="due_date")
    follow_up.status = FollowUp.Status.RESCHEDULED
    follow_up.done_at = timezone.now()
    follow_up.save(update_fields=["status", "done_at"])
    new = FollowUp.objects.create(
        household_id=follow_up.household_id,
        resident_id=follow_up.resident_id,
        visit_id=follow_up.visit_id,
        member_id=follow_up.member_id,
        due_date=due_date,
        time_of_day=time_of_day,
        reason=follow_up.reason,
    )
    audit_change(
        actor=actor,
        action="update",
        obj=follow_up,
        unit=follow_up.household.unit,
        address=address,
        detail={"status": "rescheduled", "rescheduled_to": new.pk},
    )
    return new


# --- home support ----------------------------------------------------------------------------

HS = HomeSupportRequest.Status


def _home_support_locked(request: HomeSupportRequest) -> HomeSupportRequest:
    return (
        HomeSupportRequest.objects.select_for_update()
        .select_related("resident", "resident__unit")
        .get(pk=request.pk)
    )


@transaction.atomic
def home_support_request(
    *,
    resident: Resident,
    reason: str = "",
    visit: Visit | None = None,
    at: dt.datetime | None = None,
    actor: User | None = None,
    reach_checked: bool = False,
    address: str | None = None,
) -> tuple[HomeSupportRequest, bool]:
    """Ask for home support for a resident. Returns the open request if there already is one
    (created=False). `reach_checked`: the caller has checked that the actor may ask for this
    resident (a field member for a resident of their hamlets, as a visit outcome does)."""
    if not reach_checked:
        require_manager_of(actor, resident.unit)
    existing = HomeSupportRequest.objects.filter(
        resident=resident, status__in=(HS.REQUESTED, HS.SCHEDULED)
    ).first()
    if existing:
        return existing, False
    request = HomeSupportRequest.objects.create(
        resident=resident,
        visit=visit,
        reason=typed(reason, limits.REASON, "reason"),
        requested_at=at or timezone.now(),
    )
    audit_change(actor=actor, action="create", obj=request, unit=resident.unit, address=address)
    return request, True


@transaction.atomic
def home_support_schedule(
    *,
    request: HomeSupportRequest,
    date: dt.date,
    officers: Iterable[Member],
    actor: User | None = None,
    on: dt.date | None = None,
    over_limit_ok: bool = False,
    address: str | None = None,
) -> HomeSupportRequest:
    """requested (or scheduled, to reschedule) → scheduled, on `date` (today or later, in the
    campaign period) with exactly two police officers from the rosters of teams covering the
    resident (only police collect biometrics).

    An officer who already has the campaign's `home_support_per_officer_day` bookings that day
    is a warning, not a wall: refused (code over_limit, naming them and their count) unless
    `over_limit_ok` says the manager saw it and confirms (a day with several elderly people
    in one hamlet can be worth it; silently booking a twelfth visit is not)."""
    request = _home_support_locked(request)
    resident = request.resident
    require_manager_of(actor, resident.unit)
    if request.status not in (HS.REQUESTED, HS.SCHEDULED):
        raise OperationRefused(
            _("Không thể xếp lịch cho yêu cầu đã %(status)s.")
            % {"status": request.get_status_display().lower()},
            code="bad_transition",
        )
    officers = list({m.pk: m for m in officers}.values())
    if len(officers) != 2:
        raise OperationRefused(_("Cần đúng hai cán bộ công an."), field="officers")
    campaign = officers[0].team.campaign
    for m in officers:
        team_unit = m.team.unit
        covers = team_unit.edition == resident.unit.edition and resident.unit.path.startswith(
            team_unit.path
        )
        if m.affiliation != Affiliation.POLICE or not m.active or not covers:
            raise OperationRefused(
                _("%(name)s không phải cán bộ công an của tổ phụ trách địa bàn.")
                % {"name": m.full_name},
                field="officers",
            )
    on = on or timezone.localdate()
    if date < on:
        raise OperationRefused(_("Ngày hỗ trợ phải từ hôm nay trở đi."), field="date")
    _check_window(date, campaign, field="date")
    if not over_limit_ok:
        _check_officer_day(request, officers, date, campaign.home_support_per_officer_day)
    request.status = HS.SCHEDULED
    request.scheduled_for = date
    request.scheduled_at = timezone.now()
    request.save(update_fields=["status", "scheduled_for", "scheduled_at"])
    request.officers.set(officers)
    _audit_home_support(actor, request, address)
    return request


def _audit_home_support(
    actor: User | None, request: HomeSupportRequest, address: str | None
) -> None:
    audit_change(
        actor=actor,
        action="update",
        obj=request,
        unit=request.resident.unit,
        address=address,
        detail={"status": request.status},
    )


def _check_officer_day(
    request: HomeSupportRequest, officers: list[Member], date: dt.date, limit: int
) -> None:
    for m in officers:
        booked = (
            HomeSupportRequest.objects.filter(
                officers=m, scheduled_for=date, status__in=(HS.SCHEDULED, HS.DONE)
            )
            .exclude(pk=request.pk)
            .count()
        )
        if booked >= limit:
            raise OperationRefused(
                _(
                    "%(name)s đã có %(count)s lượt hỗ trợ tại nhà ngày %(date)s (giới hạn của "
                    "chiến dịch: %(limit)s lượt/ngày). Chọn ngày hoặc cán bộ khác, hoặc đánh dấu "
                    "“Vẫn xếp lịch” để xác nhận."
                )
                % {
                    "name": m.full_name,
                    "count": booked,
                    "date": f"{date:%d/%m/%Y}",
                    "limit": limit,
                },
                field="over_limit_ok",
                code="over_limit",
            )


@transaction.atomic
def home_support_done(
    *,
    request: HomeSupportRequest,
    note: str = "",
    actor: User | None = None,
    address: str | None = None,
) -> HomeSupportRequest:
    """scheduled → done."""
    request = _home_support_locked(request)
    require_manager_of(actor, request.resident.unit)
    if request.status != HS.SCHEDULED:
        raise OperationRefused(
            _("Chỉ yêu cầu đã xếp lịch mới có thể hoàn thành."), code="bad_transition"
        )
    request.status = HS.DONE
    request.closed_at = timezone.now()
    request.close_reason = typed(note, limits.REASON, "note")
    request.save(update_fields=["status", "closed_at", "close_reason"])
    _audit_home_support(actor, request, address)
    return request


@transaction.atomic
def home_support_cancel(
    *,
    request: HomeSupportRequest,
    reason: str,
    actor: User | None = None,
    address: str | None = None,
) -> HomeSupportRequest:
    """requested / scheduled → cancelled, with a reason (required)."""
    request = _home_support_locked(request)
    require_manager_of(actor, request.resident.unit)
    if request.status not in (HS.REQUESTED, HS.SCHEDULED):
        raise OperationRefused(_("Yêu cầu này đã đóng, không thể huỷ."), code="bad_transition")
    reason = typed(reason, limits.REASON, "reason")
    if not reason:
        raise OperationRefused(_("Hãy ghi lý do huỷ."), field="reason")
    request.status = HS.CANCELLED
    request.closed_at = timezone.now()
    request.close_reason = reason
    request.save(update_fields=["status", "closed_at", "close_reason"])
    _audit_home_support(actor, request, address)
    return request


# --- outreach --------------------------------------------------------------------------------


@transaction.atomic
def _check_outreach_counts(people: int, dossiers: int, activations: int) -> None:
    """Counts are not negative, and dossiers and activations do not exceed the people reached."""
    for name, value in (
        ("people_reached", people),
        ("dossiers_collected", dossiers),
        ("activations_helped", activations),
    ):
        if value < 0:
            raise OperationRefused(_("Số lượng không được âm."), field=name)
    if dossiers > people:
        raise OperationRefused(
            _("Số hồ sơ thu nhận không thể lớn hơn số người được tiếp cận."),
            field="dossiers_collected",
        )
    if activations > people:
        raise OperationRefused(
            _("Số tài khoản kích hoạt không thể lớn hơn số người được tiếp cận."),
            field="activations_helped",
        )


def outreach_record(
    *,
    unit: AdminUnit,
    kind: str,
    place: str,
    date: dt.date,
    team: Team | None = None,
    people_reached: int = 0,
    dossiers_collected: int = 0,
    activations_helped: int = 0,
    note: str = "",
    actor: User | None = None,
    address: str | None = None,
) -> OutreachEvent:
    """A support desk or talk at an agency, business, school, market or residential area.
    Dated in the campaign period; counts are not negative and dossiers / activations do not
    exceed the people reached; the team, if given, works at or above the unit."""
    require_manager_of(actor, unit)
    if kind not in OutreachEvent.Kind.values:
        raise OperationRefused(_("Loại hoạt động không hợp lệ."), field="kind")
    place = typed(place, limits.PLACE, "place")
    if not place:
        raise OperationRefused(_("Hãy ghi địa điểm."), field="place")
    _check_outreach_counts(people_reached, dossiers_collected, activations_helped)
    campaign: Campaign | None
    if team is not None:
        if not (team.unit.edition == unit.edition and unit.path.startswith(team.unit.path)):
            raise OperationRefused(_("Tổ này không phụ trách đơn vị đã chọn."), field="team")
        campaign = team.campaign
    else:
        campaign = current_campaign(unit)
    _check_window(date, campaign, field="date")
    event = OutreachEvent.objects.create(
        unit=unit,
        team=team,
        kind=kind,
        place=place,
        date=date,
        people_reached=people_reached,
        dossiers_collected=dossiers_collected,
        activations_helped=activations_helped,
        note=typed(note, limits.NOTE, "note"),
    )
    audit_change(actor=actor, action="create", obj=event, unit=unit, address=address)
    return event


@transaction.atomic
def outreach_delete(
    *, event: OutreachEvent, actor: User | None = None, address: str | None = None
) -> None:
    require_manager_of(actor, event.unit)
    # The entry names the event, which is gone afterwards.
    audit_change(actor=actor, action="delete", obj=event, unit=event.unit, address=address)
    event.delete()


# --- training --------------------------------------------------------------------------------


@transaction.atomic
def training_create(
    *,
    unit: AdminUnit,
    date: dt.date,
    topic: str,
    organiser: str,
    note: str = "",
    actor: User | None = None,
    campaign: Campaign | None = None,
    address: str | None = None,
) -> TrainingSession:
    """A training session (process, law or forms) for a unit, dated in the campaign period."""
    require_manager_of(actor, unit)
    if topic not in TrainingSession.Topic.values:
        raise OperationRefused(_("Chủ đề không hợp lệ."), field="topic")
    organiser = typed(organiser, limits.PLACE, "organiser")
    if not organiser:
        raise OperationRefused(_("Hãy ghi đơn vị tổ chức."), field="organiser")
    _check_window(date, campaign or current_campaign(unit), field="date")
    session = TrainingSession.objects.create(
        unit=unit,
        date=date,
        topic=topic,
        organiser=organiser,
        note=typed(note, limits.NOTE, "note"),
    )
    audit_change(actor=actor, action="create", obj=session, unit=unit, address=address)
    return session


@transaction.atomic
def training_attendance_set(
    *,
    session: TrainingSession,
    results: dict[int, bool | None],
    actor: User | None = None,
    address: str | None = None,
) -> tuple[int, int]:
    """Set the roster members' attendance: {member id: True (passed), False (attended, not
    passed), None (not attending)}. Members must be in teams at or under the session's unit.
    Returns (attending, passed)."""
    require_manager_of(actor, session.unit)
    members = {
        m.pk: m
        for m in Member.objects.filter(
            pk__in=list(results),
            active=True,
            team__unit__edition=session.unit.edition,
            team__unit__path__startswith=session.unit.path,
        ).only("id", "full_name")
    }
    if set(members) != set(results):
        raise OperationRefused(_("Có người không thuộc các tổ của đơn vị này."), field="members")
    current = {a.member_id: a for a in session.attendances.filter(member_id__isnull=False)}
    gone = [mid for mid, passed in results.items() if passed is None and mid in current]
    TrainingAttendance.objects.filter(session=session, member_id__in=gone).delete()
    changed, new = [], []
    for mid, passed in results.items():
        if passed is None:
            continue
        if mid in current:
            if current[mid].passed != passed:
                current[mid].passed = passed
                changed.append(current[mid])
        else:
            new.append(
                TrainingAttendance(
                    session=session, member_id=mid, name=members[mid].full_name, passed=passed
                )
            )
    TrainingAttendance.objects.bulk_update(changed, ["passed"])
    TrainingAttendance.objects.bulk_create(new)
    attending = [p for p in results.values() if p is not None]
    passed_count = sum(1 for p in attending if p)
    _audit_session(actor, session, address, attending=len(attending), passed=passed_count)
    return len(attending), passed_count


def _audit_session(
    actor: User | None, session: TrainingSession, address: str | None, **detail: object
) -> None:
    audit_change(
        actor=actor,
        action="update",
        obj=session,
        unit=session.unit,
        address=address,
        detail=detail,
    )


@transaction.atomic
def training_staff_add(
    *,
    session: TrainingSession,
    name: str,
    passed: bool = False,
    actor: User | None = None,
    address: str | None = None,
) -> TrainingAttendance:
    """An attendee who is not on a team roster (commune staff)."""
    require_manager_of(actor, session.unit)
    name = nfc(name or "")
    if not name:
        raise OperationRefused(_("Hãy nhập họ và tên."), field="name")
    attendance = TrainingAttendance.objects.create(session=session, name=name[:120], passed=passed)
    _audit_session(actor, session, address, staff_added=1)
    return attendance


@transaction.atomic
def training_attendance_remove(
    *, attendance: TrainingAttendance, actor: User | None = None, address: str | None = None
) -> None:
    require_manager_of(actor, attendance.session.unit)
    attendance.delete()
    _audit_session(actor, attendance.session, address, staff_removed=1)
