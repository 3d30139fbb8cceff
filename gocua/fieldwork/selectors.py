"""Reads for field work: worklists, follow-ups, home support, claims, reports to confirm,
outreach and trainings. Each is scoped through gocua.accounts.selectors and costs a fixed
number of queries whatever the number of rows."""

import datetime as dt
import uuid
from collections.abc import Iterable
from itertools import groupby
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gocua.accounts.models import User
from gocua.accounts.selectors import scope_unit, units_for_user
from gocua.campaigns.models import Assignment, Campaign, Member, Team
from gocua.campaigns.selectors import current_campaign_for_user
from gocua.fieldwork.models import (
    STATUS_OUTCOMES,
    FollowUp,
    HomeSupportRequest,
    OutreachEvent,
    Review,
    TrainingAttendance,
    TrainingSession,
    Visit,
    VisitOutcome,
)
from gocua.geo.models import AdminUnit, Level
from gocua.lib import nid as nid_lib
from gocua.people.funnel import DEFAULT_MIN_AGE, GAP_STAGES, STAGE_GAP, age_on
from gocua.people.models import Household, Resident
from gocua.people.records import households_for_user, residents_for_user
from gocua.people.selectors import eligible
from gocua.people.walking import without_household_key

# A row as the pages, the API and the printouts read it: plain data, not a model instance.
Row = dict[str, Any]

FLAGS = ("elderly", "no_smartphone", "away", "disabled", "needs_id_card")
FLAG_LABELS = {
    "elderly": gettext_lazy("Người cao tuổi"),
    "no_smartphone": gettext_lazy("Không có điện thoại thông minh"),
    "away": gettext_lazy("Đi làm ăn xa"),
    "disabled": gettext_lazy("Khuyết tật"),
    "needs_id_card": gettext_lazy("Cần làm CCCD"),
}


# --- worklists -------------------------------------------------------------------------------


def _hamlet_filter(
    hamlets: Iterable[int | AdminUnit] | QuerySet[AdminUnit],
) -> QuerySet[Any, Any] | list[int]:
    if isinstance(hamlets, QuerySet):
        return hamlets.values("pk") if hamlets.model is AdminUnit else hamlets
    return [h.pk if isinstance(h, AdminUnit) else int(h) for h in hamlets]


def _scoped_households(user_or_member: User | Member) -> QuerySet[Household]:
    if isinstance(user_or_member, Member):
        if not user_or_member.active:
            return Household.objects.none()
        return Household.objects.filter(
            unit_id__in=Assignment.objects.filter(member=user_or_member).values("hamlet_id")
        )
    return households_for_user(user_or_member)


def _scoped_residents(user_or_member: User | Member) -> QuerySet[Resident]:
    if isinstance(user_or_member, Member):
        if not user_or_member.active:
            return Resident.objects.none()
        return Resident.objects.filter(
            unit_id__in=Assignment.objects.filter(member=user_or_member).values("hamlet_id")
        )
    return residents_for_user(user_or_member)


# The row that gathers, under their hamlet, the residents who belong to no household: they
# still need a visit, and the team finds them by asking around the hamlet.
WITHOUT_HOUSEHOLD = gettext_lazy("Chưa gắn hộ")


def _without_household_groups(residents: QuerySet[Resident]) -> list[tuple[str, Row]]:
    """(walking-order key, row) of each unit that has residents with work and no household,
    in walking order: the group comes after the unit's households. One query."""
    units = (
        residents.filter(household__isnull=True)
        .order_by()
        .values_list("unit_id", "unit__name", "unit__path", "unit__level")
        .distinct()
    )
    groups = [
        (
            without_household_key(unit_path=path, unit_name=name, is_hamlet=level == "hamlet"),
            {
                "id": None,
                "address": "",
                "code": "",
                "unit_id": unit_id,
                "unit__name": name,
                "last_visit_at": None,
            },
        )
        for unit_id, name, path, level in units
    ]
    return sorted(groups, key=lambda group: group[0])


def _walking_page(
    households: QuerySet[Any, Row], groups: list[tuple[str, Row]], offset: int, limit: int | None
) -> list[Row]:
    """One page of the households (a queryset in walking order) with the groups of residents
    without a household merged in at their place. Without groups, one query; with them, one
    more that counts the households before each group."""
    if not groups:
        if limit is not None:
            return list(households[offset : offset + limit])
        return list(households[offset:])
    before = households.order_by().aggregate(
        **{f"g{i}": Count("id", filter=Q(walk_key__lt=key)) for i, (key, _) in enumerate(groups)}
    )
    # A group's place in the merged list: the households before it and the groups before it.
    places = [before[f"g{i}"] + i for i in range(len(groups))]
    end = None if limit is None else offset + limit
    skipped = sum(1 for place in places if place < offset)
    kept = [
        (place, row)
        for place, (_, row) in zip(places, groups, strict=True)
        if place >= offset and (end is None or place < end)
    ]
    wanted = None if limit is None else limit - len(kept)
    start = offset - skipped
    rows = list(households[start : start + wanted] if wanted is not None else households[start:])
    for place, row in kept:
        rows.insert(place - offset, row)
    return rows


def worklist_households(
    user_or_member: User | Member,
    *,
    hamlets: Iterable[int | AdminUnit] | QuerySet[AdminUnit] | None = None,
    gap: str | None = None,
    flag: str | None = None,
    campaign: Campaign | None = None,
    on: dt.date | None = None,
    offset: int = 0,
    limit: int | None = None,
    without_household: bool = False,
) -> list[Row]:
    """The households that still have work, as plain data, in walking order.

    `user_or_member`: a User (scoped by households_for_user: a field member gets their assigned
    hamlets, a manager their subtree, a viewer nothing) or a Member (their assigned hamlets).
    `hamlets` narrows to those hamlets (ids, units or a unit queryset); `gap` to one of
    not_registered / failed / not_activated / not_used; `flag` to residents with that flag
    (elderly, no_smartphone, away, disabled, needs_id_card). Only eligible residents (alive,
    not moved out, aged campaign.min_age or more on `on`, default today) with a gap are listed;
    a household without any is left out. `offset`/`limit` page through households.
    `without_household`: residents with a gap who belong to no household are listed too, one
    row per hamlet (id None, address "Chưa gắn hộ") after that hamlet's households.

    Households come in walking order (commune, hamlet, street, house number: the stored
    `Household.walk_key`).

    Each household: {"id", "address", "code", "hamlet" (name), "hamlet_id", "last_visit_at",
    "residents": [{"id", "name", "national_id_masked", "age", "birth_year_only", "eid_stage",
    "gap", "flags" (list of FLAGS set), "last_outcome" (or None), "last_outcome_at",
    "open_claim" (a claimed stage an extract has not confirmed yet, or None)}]}.

    At most four queries (the current campaign, households, residents, their outcomes),
    whatever the number of rows; two more with `without_household`.
    """
    if gap is not None and gap not in GAP_STAGES:
        raise ValueError(f"unknown gap {gap!r}")
    if flag is not None and flag not in FLAGS:
        raise ValueError(f"unknown flag {flag!r}")
    on = on or timezone.localdate()
    residents = _residents_with_work(user_or_member, campaign, on=on, gap=gap, flag=flag)
    page = _households_page(
        user_or_member, residents, hamlets, offset, limit, without_household=without_household
    )
    if not page:
        return []
    rows = _residents_of_page(user_or_member, residents, page)
    by_household = _residents_by_household(rows, on)
    return [_household_row(h, by_household) for h in page]


def _residents_with_work(
    user_or_member: User | Member,
    campaign: Campaign | None,
    *,
    on: dt.date,
    gap: str | None,
    flag: str | None,
) -> QuerySet[Resident]:
    """The residents the worklist is about (not yet scoped): eligible on `on` under the
    campaign's minimum age (the member's campaign, else the user's current one), with the
    gap asked for (any gap by default) and the flag asked for. One query, for the campaign."""
    if campaign is None:
        campaign = (
            user_or_member.team.campaign
            if isinstance(user_or_member, Member)
            else current_campaign_for_user(user_or_member)
        )
    min_age = campaign.min_age if campaign else DEFAULT_MIN_AGE
    stages = GAP_STAGES[gap] if gap else tuple(STAGE_GAP)
    residents = eligible(Resident.objects.all(), on=on, min_age=min_age).filter(
        eid_stage__in=stages
    )
    if flag:
        residents = residents.filter(**{flag: True})
    return residents


def _households_page(
    user_or_member: User | Member,
    residents: QuerySet[Resident],
    hamlets: Iterable[int | AdminUnit] | QuerySet[AdminUnit] | None,
    offset: int,
    limit: int | None,
    *,
    without_household: bool,
) -> list[Row]:
    """One page of the households in scope with a resident among `residents`, in walking order,
    as plain rows; with `without_household`, the rows of the hamlets' residents who belong to no
    household at their place (_walking_page)."""
    households = _scoped_households(user_or_member).filter(
        Exists(residents.filter(household_id=OuterRef("pk")))
    )
    if hamlets is not None:
        households = households.filter(unit_id__in=_hamlet_filter(hamlets))
    last_visit = Visit.objects.filter(household_id=OuterRef("pk")).order_by("-at")
    # Plain rows, not model instances: building thousands of instances costs more than the
    # queries themselves.
    household_rows = (
        households.annotate(last_visit_at=Subquery(last_visit.values("at")[:1]))
        .order_by("walk_key", "id")
        .values("id", "address", "code", "unit_id", "unit__name", "last_visit_at")
    )
    groups: list[tuple[str, Row]] = []
    if without_household:
        loose = residents.filter(pk__in=_scoped_residents(user_or_member).values("pk"))
        if hamlets is not None:
            loose = loose.filter(unit_id__in=_hamlet_filter(hamlets))
        groups = _without_household_groups(loose)
    return _walking_page(household_rows, groups, offset, limit)


# A resident of the page as _residents_of_page reads it: household id, id, full name,
# national id, birth date, birth year only, stage, unit id, then one boolean per FLAGS.
ResidentTuple = tuple[Any, ...]


def _residents_of_page(
    user_or_member: User | Member, residents: QuerySet[Resident], page: list[Row]
) -> list[ResidentTuple]:
    """The residents of the page's households, and of its rows without a household those of
    their unit in scope, by household then age. One query."""
    loose_units = [h["unit_id"] for h in page if h["id"] is None]
    mine = Q(household_id__in=[h["id"] for h in page if h["id"] is not None])
    if loose_units:
        mine |= Q(household__isnull=True, unit_id__in=loose_units) & Q(
            pk__in=_scoped_residents(user_or_member).values("pk")
        )
    return list(
        residents.filter(mine)
        .order_by("household_id", "birth_date", "id")
        .values_list(
            "household_id",
            "id",
            "full_name",
            "national_id",
            "birth_date",
            "birth_year_only",
            "eid_stage",
            "unit_id",
            *FLAGS,
        )
    )


def _last_outcomes_and_claims(
    resident_ids: list[int],
) -> tuple[dict[int, tuple[str | None, dt.datetime | None]], dict[int, str]]:
    """The last outcome (and when) and the open claim of each resident, from one ordered read
    of their outcomes (a handful per resident) rather than correlated subqueries per row."""
    last: dict[int, tuple[str | None, dt.datetime | None]] = {}
    claims: dict[int, str] = {}
    for resident_id, outcome, at, claimed, confirmed in (
        VisitOutcome.objects.filter(resident_id__in=resident_ids)
        .order_by("resident_id", "-visit__at", "-id")
        .values_list("resident_id", "outcome", "visit__at", "claimed_stage", "confirmed_at")
    ):
        last.setdefault(resident_id, (outcome, at))
        if claimed and confirmed is None:
            claims.setdefault(resident_id, claimed)
    return last, claims


def _residents_by_household(
    rows: list[ResidentTuple], on: dt.date
) -> dict[tuple[int | None, int | None], list[Row]]:
    """The residents' rows by (household id, None), or (None, unit id) for those with no
    household, each with its last outcome and open claim. One query."""
    last, claims = _last_outcomes_and_claims([r[1] for r in rows])
    by_household: dict[tuple[int | None, int | None], list[Row]] = {}
    for row in rows:
        household_id, rid, name, nid, born, year_only, stage, unit_id = row[:8]
        flags = row[8:]
        last_outcome, last_outcome_at = last.get(rid, (None, None))
        group = (household_id, None) if household_id is not None else (None, unit_id)
        by_household.setdefault(group, []).append(
            {
                "id": rid,
                "name": name,
                "national_id_masked": nid_lib.mask(nid),
                "age": age_on(born, on),
                "birth_year_only": year_only,
                "eid_stage": stage,
                "gap": STAGE_GAP[stage],
                "flags": [f for f, on_ in zip(FLAGS, flags, strict=True) if on_],
                "last_outcome": last_outcome,
                "last_outcome_at": last_outcome_at,
                "open_claim": claims.get(rid),
            }
        )
    return by_household


def _household_row(h: Row, by_household: dict[tuple[int | None, int | None], list[Row]]) -> Row:
    """A household of the worklist with its residents; a row without a household stands for
    its unit's residents who belong to none."""
    return {
        "id": h["id"],
        "address": (h["address"] or h["code"] or f"#{h['id']}")
        if h["id"] is not None
        else str(WITHOUT_HOUSEHOLD),
        "code": h["code"],
        "hamlet": h["unit__name"],
        "hamlet_id": h["unit_id"],
        "last_visit_at": h["last_visit_at"],
        "residents": by_household.get(
            (h["id"], None) if h["id"] is not None else (None, h["unit_id"]), []
        ),
    }


def household_for_visit(user: User, household_id: int) -> Household | None:
    """A household the user may record a visit for (None when out of scope)."""
    return (
        households_for_user(user)
        .select_related("unit", "unit__parent")
        .filter(pk=household_id)
        .first()
    )


def household_residents(household: Household) -> list[Resident]:
    """Everyone still in the household's registry entry (not deceased, not moved out)."""
    return list(
        household.residents.filter(deceased=False, moved_out=False).order_by("birth_date", "id")
    )


def household_visits(household: Household, *, limit: int = 10) -> list[Visit]:
    visits = list(household.visits.select_related("member").order_by("-at")[:limit])
    outcomes = VisitOutcome.objects.filter(visit__in=visits).select_related("resident")
    by_visit: dict[uuid.UUID, list[VisitOutcome]] = {}
    for o in outcomes:
        by_visit.setdefault(o.visit_id, []).append(o)
    for v in visits:
        v.outcome_list = by_visit.get(v.id, [])
    return visits


def members_for_household(household: Household, campaign: Campaign | None) -> QuerySet[Member]:
    """Active members who walk the household's hamlet (whom a visit can be recorded for)."""
    members = Member.objects.filter(active=True, assignments__hamlet_id=household.unit_id)
    if campaign is not None:
        members = members.filter(team__campaign=campaign)
    return members.select_related("team").order_by("full_name").distinct()


# --- follow-ups ------------------------------------------------------------------------------


def follow_ups_for(
    user: User,
    *,
    due: str = "today",
    member: Member | None = None,
    on: dt.date | None = None,
) -> QuerySet[FollowUp]:
    """Open follow-ups in the user's households: due "today", "overdue" (before today) or
    "upcoming" (after today); only `member`'s when given."""
    on = on or timezone.localdate()
    items = FollowUp.objects.filter(
        status=FollowUp.Status.OPEN, household__in=households_for_user(user)
    )
    if due == "today":
        items = items.filter(due_date=on)
    elif due == "overdue":
        items = items.filter(due_date__lt=on)
    elif due == "upcoming":
        items = items.filter(due_date__gt=on)
    else:
        raise ValueError(f"unknown due {due!r}")
    if member is not None:
        items = items.filter(member=member)
    return items.select_related("household", "household__unit", "resident", "member").order_by(
        "due_date", "household__walk_key", "id"
    )


def follow_up_get_for_user(user: User, follow_up_id: int) -> FollowUp | None:
    return (
        FollowUp.objects.filter(pk=follow_up_id, household__in=households_for_user(user))
        .select_related("household", "member", "member__team__campaign")
        .first()
    )


# --- home support ----------------------------------------------------------------------------

OPEN_HOME_SUPPORT = (HomeSupportRequest.Status.REQUESTED, HomeSupportRequest.Status.SCHEDULED)


def home_support_for(
    user: User, *, status: str = "open", unit: AdminUnit | None = None
) -> QuerySet[HomeSupportRequest]:
    """Requests for the user's residents, oldest resident first, then longest waiting.
    `status`: "open" (requested or scheduled), "closed" (done or cancelled) or one status."""
    items = HomeSupportRequest.objects.filter(resident__in=residents_for_user(user))
    if status == "open":
        items = items.filter(status__in=OPEN_HOME_SUPPORT)
    elif status == "closed":
        items = items.exclude(status__in=OPEN_HOME_SUPPORT)
    else:
        items = items.filter(status=status)
    if unit is not None:
        items = items.filter(
            resident__unit__edition=unit.edition, resident__unit__path__startswith=unit.path
        )
    return (
        items.select_related("resident", "resident__unit", "resident__household")
        .prefetch_related("officers")
        .order_by("resident__birth_date", "requested_at", "id")
    )


def home_support_get_for_user(user: User, request_id: int) -> HomeSupportRequest | None:
    return (
        HomeSupportRequest.objects.filter(pk=request_id, resident__in=residents_for_user(user))
        .select_related("resident", "resident__unit", "resident__household")
        .prefetch_related("officers")
        .first()
    )


def police_for_resident(resident: Resident, campaign: Campaign | None) -> QuerySet[Member]:
    """Active police members of the teams whose unit contains the resident."""
    if campaign is None:
        return Member.objects.none()
    unit = resident.unit
    prefixes = [unit.path[: i + 1] for i, ch in enumerate(unit.path) if ch == "/"]
    return (
        Member.objects.filter(
            active=True,
            affiliation="police",
            team__campaign=campaign,
            team__unit__edition=unit.edition,
            team__unit__path__in=prefixes,
        )
        .select_related("team")
        .order_by("-team__unit__depth", "full_name")
    )


def visit_saved_before(client_id: str, moment: dt.datetime) -> bool:
    """Whether the visit with this client UUID was received before `moment`."""
    return Visit.objects.filter(pk=client_id, received_at__lt=moment).exists()


def officers_booked_on(
    user: User, officers: Iterable[Member], day: dt.date, *, limit: int, exclude: int | None = None
) -> list[Row]:
    """Each officer's home-support bookings on `day` (scheduled or done), for the scheduling
    page: {"member", "count" (all their bookings), "bookings" (those of residents in the
    user's jurisdiction, with their household), "full" (one more would pass `limit`, the
    campaign's visits per officer per day)}. `exclude` leaves out the request being
    scheduled."""
    officers = list(officers)
    booked = HomeSupportRequest.officers.through.objects.filter(
        member_id__in=[m.pk for m in officers],
        homesupportrequest__scheduled_for=day,
        homesupportrequest__status__in=(
            HomeSupportRequest.Status.SCHEDULED,
            HomeSupportRequest.Status.DONE,
        ),
    ).values_list("member_id", "homesupportrequest_id")
    if exclude is not None:
        booked = booked.exclude(homesupportrequest_id=exclude)
    by_member: dict[int, list[int]] = {}
    for member_id, request_id in booked:
        by_member.setdefault(member_id, []).append(request_id)
    visible = {
        r.pk: r
        for r in HomeSupportRequest.objects.filter(
            pk__in=[i for ids in by_member.values() for i in ids],
            resident__in=residents_for_user(user),
        ).select_related("resident", "resident__household", "resident__unit")
    }
    return [
        {
            "member": m,
            "count": len(by_member.get(m.pk, [])),
            "bookings": [visible[i] for i in by_member.get(m.pk, []) if i in visible],
            "full": len(by_member.get(m.pk, [])) >= limit,
        }
        for m in officers
    ]


# --- claims and reports to confirm -----------------------------------------------------------


def open_claims_for(user: User) -> QuerySet[VisitOutcome]:
    """Field claims no extract has confirmed yet (the reconciliation list)."""
    return (
        VisitOutcome.objects.filter(
            resident__in=residents_for_user(user), confirmed_at__isnull=True
        )
        .exclude(claimed_stage="")
        .select_related("resident", "resident__unit", "visit", "visit__member")
        .order_by("visit__at", "id")
    )


def status_reports_for(user: User) -> QuerySet[VisitOutcome]:
    """Deaths and moves reported by visits that a manager has not yet confirmed or dismissed."""
    return (
        VisitOutcome.objects.filter(
            resident__in=residents_for_user(user),
            outcome__in=STATUS_OUTCOMES,
            review=Review.PENDING,
        )
        .select_related(
            "resident", "resident__unit", "resident__household", "visit", "visit__member"
        )
        .order_by("visit__at", "id")
    )


def status_report_get_for_user(user: User, outcome_id: int) -> VisitOutcome | None:
    return (
        VisitOutcome.objects.filter(
            pk=outcome_id, resident__in=residents_for_user(user), outcome__in=STATUS_OUTCOMES
        )
        .select_related("resident", "visit")
        .first()
    )


# --- outreach and training -------------------------------------------------------------------


def outreach_for(
    user: User, *, start: dt.date | None = None, end: dt.date | None = None
) -> QuerySet[OutreachEvent]:
    events = OutreachEvent.objects.filter(unit__in=units_for_user(user))
    if start:
        events = events.filter(date__gte=start)
    if end:
        events = events.filter(date__lte=end)
    return events.select_related("unit", "team").order_by("-date", "unit__path", "id")


def outreach_totals(events: QuerySet[OutreachEvent]) -> Row:

    return events.order_by().aggregate(
        events=Count("id"),
        people=Sum("people_reached", default=0),
        dossiers=Sum("dossiers_collected", default=0),
        activations=Sum("activations_helped", default=0),
    )


def trainings_for(user: User) -> QuerySet[TrainingSession]:
    return (
        TrainingSession.objects.filter(unit__in=units_for_user(user))
        .select_related("unit")
        .annotate(
            attendees=Count("attendances"),
            passed=Count("attendances", filter=Q(attendances__passed=True)),
        )
        .order_by("-date", "-id")
    )


def training_get_for_user(user: User, session_id: int) -> TrainingSession | None:
    return (
        TrainingSession.objects.filter(pk=session_id, unit__in=units_for_user(user))
        .select_related("unit")
        .first()
    )


def training_candidates(session: TrainingSession, campaign: Campaign | None) -> list[Member]:
    """Active members of the campaign's teams at or under the session's unit."""
    if campaign is None:
        return []
    return list(
        Member.objects.filter(
            active=True,
            team__campaign=campaign,
            team__unit__edition=session.unit.edition,
            team__unit__path__startswith=session.unit.path,
        )
        .select_related("team", "team__unit")
        .order_by("team__unit__path", "full_name", "id")
    )


def untrained_by_team(user: User, campaign: Campaign | None) -> list[tuple[Team, list[Member]]]:
    """For each team in the user's subtree, its active members with no passed training."""
    if campaign is None:
        return []
    passed = TrainingAttendance.objects.filter(member_id=OuterRef("pk"), passed=True)
    members = (
        Member.objects.filter(
            active=True, team__campaign=campaign, team__unit__in=units_for_user(user)
        )
        .filter(~Exists(passed))
        .select_related("team", "team__unit")
        .order_by("team__unit__path", "full_name", "id")
    )
    return [(team, list(group)) for team, group in groupby(members, key=lambda m: m.team)]


# --- the officer's day -----------------------------------------------------------------------

TODAY_ROWS = 20  # rows shown per list on the day page; the full lists are one link away
NOT_SYNCED_DAYS = 2


def hamlets_never_visited(user: User) -> list[Row] | None:
    """For each hamlet of the user's commune (and the commune itself, for households a file
    put in no hamlet): its households and how many nobody has visited yet, most unvisited
    first. None when the user's scope is above a commune (a district or a province would make
    this a scan of every household; their people look at dashboards).

    Two queries, each O(the commune's households): the households per unit by their unit
    index, and those without a visit as an anti-join probing the visit's household index once
    per household (PostgreSQL: "Nested Loop Anti Join" over "Index Only Scan"; as a FILTER in
    one query it would hash every visit of the province instead). No resident is read."""

    root = scope_unit(user)
    if root is None or root.level not in (Level.COMMUNE, Level.HAMLET):
        return None
    households = households_for_user(user)
    never = dict(
        households.filter(~Exists(Visit.objects.filter(household_id=OuterRef("pk"))))
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("unit_id", "n")
    )
    rows = (
        households.values("unit_id", "unit__name", "unit__path")
        .annotate(households=Count("id"))
        .order_by()
    )
    hamlets = [
        {
            "id": r["unit_id"],
            "name": r["unit__name"],
            "path": r["unit__path"],
            "households": r["households"],
            "never": never.get(r["unit_id"], 0),
        }
        for r in rows
    ]
    hamlets.sort(key=lambda h: (-h["never"], h["path"]))
    return hamlets


def members_not_synced(
    user: User, campaign: Campaign | None, *, now: dt.datetime | None = None
) -> list[Member]:
    """Active members of the user's teams who have an account and whose phone has not reached
    the server for NOT_SYNCED_DAYS days (or never): every download and every sync of the field
    page is an API call, and each touches its token's `last_used_at`. Each member carries
    `last_sync` (None: never). One query."""

    if campaign is None:
        return []
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=NOT_SYNCED_DAYS)
    return list(
        Member.objects.filter(
            active=True,
            team__campaign=campaign,
            team__unit__in=units_for_user(user),
            user__isnull=False,
            user__is_active=True,
        )
        .annotate(last_sync=Max("user__api_tokens__last_used_at"))
        .filter(Q(last_sync__isnull=True) | Q(last_sync__lt=cutoff))
        .select_related("team", "team__unit")
        .order_by("team__unit__path", "full_name", "id")
    )


def officer_day(user: User, *, now: dt.datetime | None = None) -> Row:
    """What a commune officer looks at first in the morning, all in the user's jurisdiction:
    follow-ups due today and overdue, home-support visits scheduled (the earliest first),
    households never visited per hamlet and members whose phone has not synced for two days (the
    page adds the imports that finished lately: gocua.imports.services.imports_finished_lately). Lists are cut at TODAY_ROWS with their full
    counts beside them; a fixed number of queries whatever the unit's size."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    campaign = current_campaign_for_user(user)
    due_today = follow_ups_for(user, due="today", on=today)
    overdue = follow_ups_for(user, due="overdue", on=today)
    scheduled = home_support_for(user, status=HomeSupportRequest.Status.SCHEDULED).order_by(
        "scheduled_for", "resident__unit__path", "id"
    )
    return {
        "today": today,
        "campaign": campaign,
        "due_today": list(due_today[:TODAY_ROWS]),
        "due_today_count": due_today.count(),
        "overdue": list(overdue[:TODAY_ROWS]),
        "overdue_count": overdue.count(),
        "home_support": list(scheduled[:TODAY_ROWS]),
        "home_support_count": scheduled.count(),
        "hamlets": hamlets_never_visited(user),
        "not_synced": members_not_synced(user, campaign, now=now),
    }


def trained_member_ids(members: list[Member]) -> set[int]:
    """Members with a passed training session (one query)."""
    return set(
        TrainingAttendance.objects.filter(member__in=members, passed=True).values_list(
            "member_id", flat=True
        )
    )
