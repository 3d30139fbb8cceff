"""Reads for field work: worklists, follow-ups, home support, claims, reports to confirm,
outreach and trainings. Each is scoped through gocua.accounts.selectors and costs a fixed
number of queries whatever the number of rows."""

import datetime as dt
from collections.abc import Iterable
from itertools import groupby

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gocua.accounts.models import User
from gocua.accounts.selectors import households_for_user, residents_for_user, units_for_user
from gocua.campaigns.models import Assignment, Campaign, Member, Team
from gocua.campaigns.selectors import (
    GAP_STAGES,
    STAGE_GAP,
    age_on,
    current_campaign_for_user,
    eligible,
)
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
from gocua.geo.models import AdminUnit
from gocua.lib import nid as nid_lib
from gocua.people.models import Household, Resident

FLAGS = ("elderly", "no_smartphone", "away", "disabled", "needs_id_card")
FLAG_LABELS = {
    "elderly": gettext_lazy("Người cao tuổi"),
    "no_smartphone": gettext_lazy("Không có điện thoại thông minh"),
    "away": gettext_lazy("Đi làm ăn xa"),
    "disabled": gettext_lazy("Khuyết tật"),
    "needs_id_card": gettext_lazy("Cần làm CCCD"),
}
DEFAULT_MIN_AGE = 14


# --- worklists -------------------------------------------------------------------------------


def _hamlet_filter(hamlets: Iterable[int | AdminUnit] | QuerySet) -> QuerySet | list[int]:
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


def worklist_households(
    user_or_member: User | Member,
    *,
    hamlets: Iterable[int | AdminUnit] | QuerySet | None = None,
    gap: str | None = None,
    flag: str | None = None,
    campaign: Campaign | None = None,
    on: dt.date | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict]:
    """The households that still have work, as plain data, ordered by hamlet then address.

    `user_or_member`: a User (scoped by households_for_user: a field member gets their assigned
    hamlets, a manager their subtree, a viewer nothing) or a Member (their assigned hamlets).
    `hamlets` narrows to those hamlets (ids, units or a unit queryset); `gap` to one of
    not_registered / failed / not_activated / not_used; `flag` to residents with that flag
    (elderly, no_smartphone, away, disabled, needs_id_card). Only eligible residents (alive,
    not moved out, aged campaign.min_age or more on `on`, default today) with a gap are listed;
    a household without any is left out. `offset`/`limit` page through households.

    Each household: {"id", "address", "code", "hamlet" (name), "hamlet_id", "last_visit_at",
    "residents": [{"id", "name", "national_id_masked", "age", "birth_year_only", "eid_stage",
    "gap", "flags" (list of FLAGS set), "last_outcome" (or None), "last_outcome_at",
    "open_claim" (a claimed stage an extract has not confirmed yet, or None)}]}.

    At most four queries (the current campaign, households, residents, their outcomes),
    whatever the number of rows.
    """
    if gap is not None and gap not in GAP_STAGES:
        raise ValueError(f"unknown gap {gap!r}")
    if flag is not None and flag not in FLAGS:
        raise ValueError(f"unknown flag {flag!r}")
    on = on or timezone.localdate()
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

    households = _scoped_households(user_or_member).filter(
        Exists(residents.filter(household_id=OuterRef("pk")))
    )
    if hamlets is not None:
        households = households.filter(unit_id__in=_hamlet_filter(hamlets))
    last_visit = Visit.objects.filter(household_id=OuterRef("pk")).order_by("-at")
    # Plain rows, not model instances: building thousands of instances costs more than the
    # queries themselves.
    households = (
        households.annotate(last_visit_at=Subquery(last_visit.values("at")[:1]))
        .order_by("unit__path", "address", "id")
        .values("id", "address", "code", "unit_id", "unit__name", "last_visit_at")
    )
    if limit is not None:
        households = households[offset : offset + limit]
    elif offset:
        households = households[offset:]
    page = list(households)
    if not page:
        return []

    rows = list(
        residents.filter(household_id__in=[h["id"] for h in page])
        .order_by("household_id", "birth_date", "id")
        .values_list(
            "household_id",
            "id",
            "full_name",
            "national_id",
            "birth_date",
            "birth_year_only",
            "eid_stage",
            *FLAGS,
        )
    )
    # The last outcome and the open claim of each resident, from one ordered read of their
    # outcomes (a handful per resident) rather than correlated subqueries per row.
    last: dict[int, tuple[str, dt.datetime]] = {}
    claims: dict[int, str] = {}
    for resident_id, outcome, at, claimed, confirmed in (
        VisitOutcome.objects.filter(resident_id__in=[r[1] for r in rows])
        .order_by("resident_id", "-visit__at", "-id")
        .values_list("resident_id", "outcome", "visit__at", "claimed_stage", "confirmed_at")
    ):
        last.setdefault(resident_id, (outcome, at))
        if claimed and confirmed is None:
            claims.setdefault(resident_id, claimed)
    by_household: dict[int, list[dict]] = {}
    for row in rows:
        household_id, rid, name, nid, born, year_only, stage = row[:7]
        flags = row[7:]
        outcome, outcome_at = last.get(rid, (None, None))
        by_household.setdefault(household_id, []).append(
            {
                "id": rid,
                "name": name,
                "national_id_masked": nid_lib.mask(nid),
                "age": age_on(born, on),
                "birth_year_only": year_only,
                "eid_stage": stage,
                "gap": STAGE_GAP[stage],
                "flags": [f for f, on_ in zip(FLAGS, flags, strict=True) if on_],
                "last_outcome": outcome,
                "last_outcome_at": outcome_at,
                "open_claim": claims.get(rid),
            }
        )
    return [
        {
            "id": h["id"],
            "address": h["address"] or h["code"] or f"#{h['id']}",
            "code": h["code"],
            "hamlet": h["unit__name"],
            "hamlet_id": h["unit_id"],
            "last_visit_at": h["last_visit_at"],
            "residents": by_household.get(h["id"], []),
        }
        for h in page
    ]


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
    by_visit: dict = {}
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
        "due_date", "household__unit__path", "household__address", "id"
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


def outreach_totals(events: QuerySet[OutreachEvent]) -> dict:
    from django.db.models import Sum

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
