"""API routes of the fieldwork: the field page's token, the worklist, the visit sync,
follow-ups, home support, outreach.

Mounted at /api/v1/ by gocua.api.api; the offline field page (gocua.field) calls them by URL.
Contracts of `GET /worklist` and `POST /visits/sync` are in docs/design.md ("Contracts"); keep
their fields as they are. Everything is scoped through gocua.accounts.selectors: an object
outside the user's jurisdiction answers 404, one inside it that the user may not change (a
field member and an outreach event) answers 403. The sync's writes are in
gocua.fieldwork.visits, the worklist's pull in gocua.fieldwork.worklist_pull.
"""

import datetime as dt
import uuid
from typing import Literal

import pydantic
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from gocua.accounts.models import Role
from gocua.accounts.selectors import (
    can_see_residents,
    effective_role,
    unit_for_user_or_404,
    units_for_user,
)
from gocua.accounts.services import audit_read, audit_record, client_ip, token_create
from gocua.api.common import (
    BODY_ERRORS,
    ERRORS,
    MAX_ID,
    BodyError,
    Coordinate,
    Count,
    ErrorOut,
    Id,
    IsoDate,
    LongText,
    Moment,
    OffsetPage,
    PageQuery,
    Text,
    api_user,
    error_text,
    json_body,
    openapi_body,
    session_auth,
)
from gocua.campaigns.models import Team
from gocua.campaigns.selectors import campaign_deadline_for, member_for_user
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork import selectors, services, worklist_pull
from gocua.fieldwork.models import FollowUp, HomeSupportRequest, Outcome, OutreachEvent
from gocua.fieldwork.visits import REJECTED, NewVisit, VisitResult, visits_record
from gocua.lib import limits
from gocua.lib.ranges import compress
from gocua.people.funnel import age_on
from gocua.people.records import resident_for_user_or_404

router = Router()
# Each route keeps the operation id it was published with (clients generated from the OpenAPI
# name their functions after it) from when these routes lived in gocua/field/api.py.

# A phone sends its outbox in batches of 100; a batch is refused whole past either limit.
MAX_VISITS = 200
MAX_BYTES = 1024 * 1024
# Refusals about the state of an object (already done, already closed) rather than its data.
CONFLICT_CODES = {"not_open", "bad_transition", "already_reviewed"}


def _refusal(exc: OperationRefused) -> Status:
    if isinstance(exc, NotAllowed):
        return Status(403, {"detail": _("Bạn không có quyền thực hiện việc này.")})
    status = 409 if exc.code in CONFLICT_CODES else 422
    where = f"{exc.field}: " if exc.field else ""
    return Status(status, {"detail": where + exc.message})


# --- the field page's token ------------------------------------------------------------------


class FieldTokenOut(Schema):
    token: str


@router.post(
    "/field/token",
    auth=session_auth,
    response={200: FieldTokenOut, 401: ErrorOut, 403: ErrorOut},
    tags=["auth"],
    summary="Trade the browser session for a bearer token (the offline field page)",
    operation_id="gocua_field_api_field_token",
)
def field_token(request: HttpRequest):
    """The field page logs in once on the login page, then keeps this token on the phone: it
    outlives the session and works offline until revoked (POST /auth/revoke, or the admin).
    Session only, with the CSRF header."""
    user = api_user(request)
    _token, key = token_create(
        user=user,
        label="field page",
        campaign_deadline=campaign_deadline_for(user),
        request=request,
    )
    return Status(200, {"token": key})


# --- worklist --------------------------------------------------------------------------------


# Plain pydantic models for the two hot routes: ninja's Schema wraps every object it validates
# (it is made for reading Django models), which doubled the time of a 300-household worklist.


class ResidentOut(pydantic.BaseModel):
    id: int
    name: str
    national_id_masked: str = Field(description="never the full number")
    age: int
    eid_stage: str
    gap: Literal["not_registered", "failed", "not_activated", "not_used"]
    flags: list[str] = Field(description="elderly, no_smartphone, away, disabled, needs_id_card")


class HouseholdOut(pydantic.BaseModel):
    id: int
    address: str
    hamlet: str
    # By anyone: a phone that lost its storage, or a second member of the hamlet, sees that
    # the house was just walked (and a phone sees its own posts, read on the primary).
    last_visit_at: dt.datetime | None = Field(description="when the household was last visited")
    residents: list[ResidentOut]


class WorklistQuery(Schema):
    since: Text | None = Field(
        None,
        max_length=4000,
        description="the `cursor` of the last pull (or an ISO 8601 timestamp): only changes",
    )
    offset: int = Field(0, ge=0, le=10**9)
    limit: int = Field(500, ge=1, le=1000, description="households per page")


class WorklistOut(pydantic.BaseModel):
    households: list[HouseholdOut]
    removed: list[int] = Field(
        description="households to drop: no work left, or their hamlet is no longer assigned"
    )
    full: bool = Field(description="true: replace the whole list with these pages")
    cursor: str = Field(description="send as `since` next time (keep the first page's)")
    offset: int
    limit: int
    next_offset: int | None = Field(description="the next page's offset, null on the last")


@router.get(
    "/worklist",
    response={200: WorklistOut, **ERRORS},
    tags=["worklist"],
    summary="The member's assigned households with residents who still have a gap",
    operation_id="gocua_field_api_worklist",
)
def worklist(request: HttpRequest, query: Query[WorklistQuery]):
    """Only the hamlets assigned to the user in the current campaign; national IDs masked;
    residents with no gap left out. With `since`: only what changed, and `removed`."""
    user = api_user(request)
    since = None
    if query.since:
        try:
            since = worklist_pull.since_parse(query.since, user=user)
        except worklist_pull.SinceError as exc:
            return Status(422, {"detail": f"since: {exc}"})
    pull = worklist_pull.worklist_pull(user, since=since, offset=query.offset, limit=query.limit)
    if pull.households:
        # The list leaves the server for a phone's storage: every page is recorded, like an
        # export, naming the residents it carried.
        audit_record(
            user=user,
            action="export",
            object_type="worklist",
            object_id=user.pk,
            unit=user.unit,
            request=request,
            detail={
                "households": len(pull.households),
                "full": pull.full,
                "offset": query.offset,
                "residents": sum(len(h["residents"]) for h in pull.households),
                "ids": compress(r["id"] for h in pull.households for r in h["residents"]),
            },
        )
    return Status(
        200,
        {
            "households": pull.households,
            "removed": pull.removed,
            "full": pull.full,
            "cursor": pull.cursor,
            "offset": query.offset,
            "limit": query.limit,
            "next_offset": pull.next_offset,
        },
    )


# --- visits ----------------------------------------------------------------------------------


# Plain pydantic models here too: the route validates each visit on its own (so that one bad
# visit is rejected alone), thousands a second.


class LocationIn(pydantic.BaseModel):
    lat: Coordinate = Field(..., ge=-90, le=90)
    lon: Coordinate = Field(..., ge=-180, le=180)


class OutcomeIn(pydantic.BaseModel):
    resident: Id
    outcome: Text = Field(..., max_length=40, description=", ".join(Outcome.values))
    note: LongText = Field("", max_length=limits.OUTCOME_NOTE)


class VisitIn(pydantic.BaseModel):
    id: uuid.UUID = Field(description="made by the phone (uuid4); sending it again is harmless")
    household: Id
    at: Moment = Field(description="ISO 8601, with its UTC offset (refused without one)")
    outcomes: list[OutcomeIn] = Field(max_length=100)
    location: LocationIn | None = None

    @pydantic.field_validator("at")
    @classmethod
    def at_plausible(cls, value: dt.datetime) -> dt.datetime:
        # Far-off years overflow time-zone arithmetic; a phone's clock is never that wrong.
        if not 2000 <= value.year <= 2100:
            raise ValueError("the year must be between 2000 and 2100")
        return value


class SyncIn(pydantic.BaseModel):
    visits: list[VisitIn] = Field(
        max_length=MAX_VISITS, description=f"at most {MAX_VISITS} visits and {MAX_BYTES} bytes"
    )


class SyncResultOut(pydantic.BaseModel):
    id: str
    status: Literal["created", "duplicate", "rejected"]
    error: str = Field(description="why, when rejected; empty otherwise")


class SyncOut(pydantic.BaseModel):
    results: list[SyncResultOut] = Field(description="one per visit, in the order sent")


SYNC_BODY = openapi_body(SyncIn)


def _too_big(what: str) -> Status:
    return Status(
        413,
        {
            "detail": _(
                "Gói gửi quá lớn (%(what)s); giới hạn mỗi lần gửi là %(visits)s lượt thăm và "
                "%(bytes)s byte: hãy chia nhỏ."
            )
            % {"what": what, "visits": MAX_VISITS, "bytes": MAX_BYTES}
            + f" (batch too large: {what}; the limit is {MAX_VISITS} visits and "
            f"{MAX_BYTES} bytes per request)"
        },
    )


def _item_error(exc: pydantic.ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ())) or "visit"
        parts.append(f"{where}: {error_text(error)}")
    return _("Dữ liệu không hợp lệ: %(errors)s") % {"errors": "; ".join(parts)}


def _parse_visit(item: object) -> NewVisit | VisitResult:
    try:
        visit = VisitIn.model_validate(item)
    except pydantic.ValidationError as exc:
        raw_id = item.get("id") if isinstance(item, dict) else None
        return VisitResult(str(raw_id) if raw_id is not None else "", REJECTED, _item_error(exc))
    return NewVisit(
        id=visit.id,
        household=visit.household,
        at=visit.at,
        outcomes=tuple((o.resident, o.outcome, o.note) for o in visit.outcomes),
        location=(visit.location.lat, visit.location.lon) if visit.location else None,
    )


@router.post(
    "/visits/sync",
    response={200: SyncOut, **BODY_ERRORS},
    openapi_extra=SYNC_BODY,
    tags=["visits"],
    summary="Send a batch of visits recorded offline; answers per visit, in order",
    operation_id="gocua_field_api_visits_sync_route",
)
def visits_sync_route(request: HttpRequest):
    """Idempotent: each visit carries the phone's UUID, so a batch sent twice records each
    visit once (the second answer says `duplicate`). One bad visit is rejected alone, with a
    reason; a household outside your assigned hamlets is rejected without saying whether it
    exists. Everything `created` is committed before the answer. A batch over the limits
    (visits or bytes) is refused whole with 413."""
    user = api_user(request)
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BYTES:
        return _too_big(f"{int(length)} bytes")
    if len(request.body) > MAX_BYTES:
        return _too_big(f"{len(request.body)} bytes")
    try:
        data = json_body(request)
    except BodyError as exc:
        return Status(
            exc.status,
            {"detail": _("Nội dung gửi lên không đọc được") + f" ({exc.message})"},
        )
    if not isinstance(data, dict) or not isinstance(data.get("visits"), list):
        return Status(
            422, {"detail": 'visits: send a JSON object {"visits": [...]} (a list of visits)'}
        )
    items = data["visits"]
    if len(items) > MAX_VISITS:
        return _too_big(f"{len(items)} visits")
    if not can_see_residents(user):
        return Status(404, {"detail": "no worklist for this account"})
    member = member_for_user(user)
    if member is None:
        return Status(
            403,
            {
                "detail": _(
                    "Tài khoản này chưa là thành viên tổ nào trong chiến dịch hiện hành: "
                    "hãy nhờ cán bộ phụ trách phân công địa bàn."
                )
            },
        )
    parsed = [_parse_visit(item) for item in items]
    valid = [p for p in parsed if isinstance(p, NewVisit)]
    recorded = iter(
        visits_record(member=member, visits=valid, actor=user, address=client_ip(request))
    )
    results = [next(recorded) if isinstance(p, NewVisit) else p for p in parsed]
    return Status(
        200, {"results": [{"id": r.id, "status": r.status, "error": r.error} for r in results]}
    )


# --- follow-ups ------------------------------------------------------------------------------


class FollowUpQuery(PageQuery):
    due: Literal["due", "today", "overdue", "upcoming"] = Field(
        "due", description="due: today or overdue"
    )
    mine: bool = Field(True, description="only my own (false: all in my jurisdiction)")


class FollowUpOut(Schema):
    id: int
    household: int
    address: str
    hamlet: str
    resident: int | None
    resident_name: str
    member_name: str
    due_date: dt.date
    time_of_day: Literal["morning", "afternoon", "evening"]
    reason: str
    status: str


class FollowUpPageOut(Schema):
    items: list[FollowUpOut]
    count: int
    offset: int
    limit: int


class RescheduleIn(Schema):
    due_date: IsoDate
    time_of_day: Literal["morning", "afternoon", "evening"]


def _follow_up(item: FollowUp) -> dict:
    return {
        "id": item.pk,
        "household": item.household_id,
        "address": str(item.household),
        "hamlet": item.household.unit.name,
        "resident": item.resident_id,
        "resident_name": item.resident.full_name if item.resident is not None else "",
        "member_name": item.member.full_name if item.member is not None else "",
        "due_date": item.due_date,
        "time_of_day": item.time_of_day,
        "reason": item.reason,
        "status": item.status,
    }


def _follow_ups_shown(request: HttpRequest, page: list[FollowUp]) -> None:
    api_user(request)  # request.user is the token's user from here on
    audit_read(
        request,
        "follow_ups",
        [f.resident_id for f in page if f.resident_id],
        detail={"via": "api", "count": len(page)},
    )


@router.get(
    "/follow-ups",
    response={200: FollowUpPageOut, **ERRORS},
    tags=["follow-ups"],
    summary="Open follow-ups (come back later) due today, overdue or upcoming",
    operation_id="gocua_field_api_follow_ups",
)
@paginate(OffsetPage, query=FollowUpQuery, row=_follow_up, shown=_follow_ups_shown)
def follow_ups(request: HttpRequest, **page) -> QuerySet[FollowUp]:
    query: FollowUpQuery = page["query"]
    user = api_user(request)
    member = None
    if query.mine:
        member = member_for_user(user)
        if member is None:
            return FollowUp.objects.none()
    if query.due == "due":
        # "overdue as of tomorrow" is today and before.
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
        return selectors.follow_ups_for(user, due="overdue", member=member, on=tomorrow)
    return selectors.follow_ups_for(user, due=query.due, member=member)


def _follow_up_or_404(user, follow_up_id: int) -> FollowUp:
    if not 1 <= follow_up_id <= MAX_ID:
        raise Http404("no such follow-up")
    item = selectors.follow_up_get_for_user(user, follow_up_id)
    if item is None:
        raise Http404("no such follow-up")
    return item


def _follow_up_answer(item: FollowUp) -> dict:
    item = (
        FollowUp.objects.select_related("household__unit", "resident", "member")
        .filter(pk=item.pk)
        .get()
    )
    return _follow_up(item)


@router.post(
    "/follow-ups/{follow_up_id}/done",
    response={200: FollowUpOut, 409: ErrorOut, **BODY_ERRORS},
    tags=["follow-ups"],
    summary="Mark a follow-up done",
    operation_id="gocua_field_api_follow_up_done",
)
def follow_up_done(request: HttpRequest, follow_up_id: Path[int]):
    """Its member, or a manager of the household's unit."""
    user = api_user(request)
    item = _follow_up_or_404(user, follow_up_id)
    try:
        services.follow_up_done(follow_up=item, actor=user, address=client_ip(request))
    except OperationRefused as exc:
        return _refusal(exc)
    return Status(200, _follow_up_answer(item))


@router.post(
    "/follow-ups/{follow_up_id}/reschedule",
    response={200: FollowUpOut, 409: ErrorOut, **BODY_ERRORS},
    tags=["follow-ups"],
    summary="Move a follow-up to another day; answers the new follow-up",
    operation_id="gocua_field_api_follow_up_reschedule",
)
def follow_up_reschedule(request: HttpRequest, follow_up_id: Path[int], data: RescheduleIn):
    """Today or later, inside the campaign period. The old one is kept as `rescheduled`."""
    user = api_user(request)
    item = _follow_up_or_404(user, follow_up_id)
    try:
        new = services.follow_up_reschedule(
            follow_up=item,
            due_date=data.due_date,
            time_of_day=data.time_of_day,
            actor=user,
            address=client_ip(request),
        )
    except OperationRefused as exc:
        return _refusal(exc)
    return Status(200, _follow_up_answer(new))


# --- home support ----------------------------------------------------------------------------


class HomeSupportQuery(PageQuery):
    status: Literal["open", "closed", "requested", "scheduled", "done", "cancelled"] = "open"


class HomeSupportIn(Schema):
    resident: Id
    reason: LongText = Field("", max_length=limits.REASON)


class HomeSupportOut(Schema):
    id: int
    resident: int
    resident_name: str
    age: int
    address: str
    hamlet: str
    status: str
    reason: str
    requested_at: dt.datetime
    scheduled_for: dt.date | None
    officers: list[str]


class HomeSupportPageOut(Schema):
    items: list[HomeSupportOut]
    count: int
    offset: int
    limit: int


def _home_support(item: HomeSupportRequest) -> dict:
    resident = item.resident
    return {
        "id": item.pk,
        "resident": resident.pk,
        "resident_name": resident.full_name,
        "age": age_on(resident.birth_date, timezone.localdate()),
        "address": str(resident.household) if resident.household_id else "",
        "hamlet": resident.unit.name,
        "status": item.status,
        "reason": item.reason,
        "requested_at": item.requested_at,
        "scheduled_for": item.scheduled_for,
        "officers": [m.full_name for m in item.officers.all()],
    }


def _home_support_shown(request: HttpRequest, page: list[HomeSupportRequest]) -> None:
    api_user(request)  # request.user is the token's user from here on
    audit_read(request, "home_support", [i.resident_id for i in page], detail={"via": "api"})


@router.get(
    "/home-support",
    response={200: HomeSupportPageOut, **ERRORS},
    tags=["home support"],
    summary="Home-support requests for residents in my jurisdiction",
    operation_id="gocua_field_api_home_support_list",
)
@paginate(OffsetPage, query=HomeSupportQuery, row=_home_support, shown=_home_support_shown)
def home_support_list(request: HttpRequest, **page) -> QuerySet[HomeSupportRequest]:
    query: HomeSupportQuery = page["query"]
    return selectors.home_support_for(api_user(request), status=query.status)


@router.post(
    "/home-support",
    response={200: HomeSupportOut, 201: HomeSupportOut, **BODY_ERRORS},
    tags=["home support"],
    summary="Ask for home support for a resident (201; 200 with the open request if any)",
    operation_id="gocua_field_api_home_support_create",
)
def home_support_create(request: HttpRequest, data: HomeSupportIn):
    """For residents the user may see. A field member may ask for residents of their hamlets,
    as the `needs_home_support` visit outcome does; scheduling stays with unit managers."""
    user = api_user(request)
    resident = resident_for_user_or_404(user, data.resident)
    try:
        item, created = services.home_support_request(
            resident=resident,
            reason=data.reason,
            actor=user,
            # The resident is in the user's scope (checked above): a field member's request is
            # then allowed as a visit outcome's is.
            reach_checked=effective_role(user) == Role.FIELD_MEMBER,
            address=client_ip(request),
        )
    except OperationRefused as exc:
        return _refusal(exc)
    # Read again as the answer shows it; the resident is in scope (checked above).
    shown = selectors.home_support_get_for_user(user, item.pk)
    if shown is None:
        raise Http404
    return Status(201 if created else 200, _home_support(shown))


# --- outreach --------------------------------------------------------------------------------


class OutreachQuery(PageQuery):
    start: IsoDate | None = None
    end: IsoDate | None = None


class OutreachIn(Schema):
    unit: Text = Field(..., max_length=20, description="unit code, in the user's jurisdiction")
    edition: Literal[2023, 2025] | None = None
    kind: Literal["agency", "business", "school", "market", "residential", "other"]
    place: Text = Field(..., max_length=limits.PLACE)
    date: IsoDate
    team: Id | None = None
    people_reached: Count = 0
    dossiers_collected: Count = 0
    activations_helped: Count = 0
    note: LongText = Field("", max_length=limits.NOTE)


class OutreachOut(Schema):
    id: int
    unit_code: str
    unit_name: str
    team: int | None
    kind: str
    place: str
    date: dt.date
    people_reached: int
    dossiers_collected: int
    activations_helped: int
    note: str


class OutreachPageOut(Schema):
    items: list[OutreachOut]
    count: int
    offset: int
    limit: int


def _outreach(event: OutreachEvent) -> dict:
    return {
        "id": event.pk,
        "unit_code": event.unit.code,
        "unit_name": event.unit.name,
        "team": event.team_id,
        "kind": event.kind,
        "place": event.place,
        "date": event.date,
        "people_reached": event.people_reached,
        "dossiers_collected": event.dossiers_collected,
        "activations_helped": event.activations_helped,
        "note": event.note,
    }


@router.get(
    "/outreach",
    response={200: OutreachPageOut, **ERRORS},
    tags=["outreach"],
    summary="Outreach events (support desks, talks) in my jurisdiction, newest first",
    operation_id="gocua_field_api_outreach_list",
)
@paginate(OffsetPage, query=OutreachQuery, row=_outreach)
def outreach_list(request: HttpRequest, **page) -> QuerySet[OutreachEvent]:
    query: OutreachQuery = page["query"]
    return selectors.outreach_for(api_user(request), start=query.start, end=query.end)


@router.post(
    "/outreach",
    response={201: OutreachOut, **BODY_ERRORS},
    tags=["outreach"],
    summary="Record an outreach event (unit managers)",
    operation_id="gocua_field_api_outreach_create",
)
def outreach_create(request: HttpRequest, data: OutreachIn):
    user = api_user(request)
    unit = unit_for_user_or_404(user, data.edition, data.unit)
    team = None
    if data.team is not None:
        team = (
            Team.objects.select_related("unit", "campaign")
            .filter(pk=data.team, unit__in=units_for_user(user))
            .first()
        )
        if team is None:
            return Status(404, {"detail": "no such team"})
    try:
        event = services.outreach_record(
            unit=unit,
            kind=data.kind,
            place=data.place,
            date=data.date,
            team=team,
            people_reached=data.people_reached,
            dossiers_collected=data.dossiers_collected,
            activations_helped=data.activations_helped,
            note=data.note,
            actor=user,
            address=client_ip(request),
        )
    except OperationRefused as exc:
        return _refusal(exc)
    return Status(201, _outreach(event))
