"""Reads for campaigns: plans, targets, teams, rosters, composition and assignments.

Every function that takes a user scopes through gocua.accounts.selectors; objects outside the
answer do not exist for that user (views answer 404).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from gocua.accounts.models import Role, User
from gocua.accounts.selectors import (
    effective_role,
    home_unit,
    is_manager,
    scope_paths,
    scope_unit,
    unit_visible,
    units_for_user,
)
from gocua.campaigns.models import Affiliation, Assignment, Campaign, Member, Team, UnitTarget
from gocua.geo.models import AdminUnit, Level
from gocua.lib.compiled import CompiledLookup

TEAM_LEVELS = (Level.DISTRICT, Level.COMMUNE)


# --- who may do what -------------------------------------------------------------------------
# Roles come from gocua.accounts.selectors (is_manager, can_see_residents, effective_role).


def is_province_admin(user: User) -> bool:
    """Province admins (and superusers, who act as one) plan campaigns."""
    return effective_role(user) == Role.PROVINCE_ADMIN


def manages_unit(user: User, unit: AdminUnit) -> bool:
    """True when `user` manages `unit` (their own unit or one under it)."""
    return is_manager(user) and unit_visible(user, unit)


# --- campaigns -------------------------------------------------------------------------------


def current_campaign(unit: AdminUnit | None) -> Campaign | None:
    """The current campaign of the province `unit` lies in (each province runs its own);
    None without a unit or a current campaign there."""
    if unit is None:
        return None
    return (
        Campaign.objects.select_related("province")
        .filter(
            is_current=True,
            province__edition=unit.edition,
            province__path=unit.path.split("/", 1)[0] + "/",
        )
        .first()
    )


def current_campaign_for_user(user: User) -> Campaign | None:
    """The current campaign of the province the user works in (for an unrestricted user,
    of the first province loaded). One query: the province is read off the unit's path."""
    return current_campaign(home_unit(user))


def campaign_deadline_for(user: User) -> dt.date | None:
    """The deadline of the current campaign of the user's province (None without one): API
    tokens end 30 days after it."""
    campaign = current_campaign_for_user(user)
    return campaign.deadline if campaign else None


def province_of(user: User) -> AdminUnit | None:
    """The province the user works in (the first loaded province for an unrestricted user)."""
    root = home_unit(user)
    if root is None:
        return None
    if root.level == Level.PROVINCE:
        return root
    return AdminUnit.objects.filter(
        edition=root.edition, path=root.path.split("/", 1)[0] + "/"
    ).first()


def campaigns_for_user(user: User) -> QuerySet[Campaign]:
    """Campaigns of the province the user works in (all of them for a superuser)."""
    campaigns = Campaign.objects.select_related("province").order_by("-start_date", "-id")
    paths = scope_paths(user)
    if paths is None:
        return campaigns
    if not paths:
        return campaigns.none()
    province_path = paths[0].split("/", 1)[0] + "/"
    root = scope_unit(user)
    assert root is not None  # scope_paths gave a path: the user has a unit
    return campaigns.filter(province__edition=root.edition, province__path=province_path)


def campaign_period(campaign: Campaign) -> tuple[dt.date, dt.date]:
    """First and last day on which field work may be dated: from the start of the peak window
    to the deadline (or the window's end, if that is later)."""
    return campaign.start_date, max(campaign.window_end, campaign.deadline)


def period_text(campaign: Campaign) -> str:
    start, end = campaign_period(campaign)
    return f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"


def date_outside_message(day: dt.date, campaign: Campaign) -> str | None:
    """None when `day` is in the campaign period, else a message that shows the period."""
    start, end = campaign_period(campaign)
    if start <= day <= end:
        return None
    return _("Ngày %(day)s nằm ngoài thời gian chiến dịch (%(period)s).") % {
        "day": f"{day:%d/%m/%Y}",
        "period": period_text(campaign),
    }


def target_for(campaign: Campaign, unit: AdminUnit, metric: str) -> float:
    """The target that applies to `unit`: the override of the nearest unit at or above it,
    else the campaign's."""
    prefixes = [unit.path[: i + 1] for i, ch in enumerate(unit.path) if ch == "/"]
    override = (
        UnitTarget.objects.filter(
            campaign=campaign, metric=metric, unit__edition=unit.edition, unit__path__in=prefixes
        )
        .order_by("-unit__depth")
        .values_list("value", flat=True)
        .first()
    )
    if override is not None:
        return float(override)
    return float(getattr(campaign, f"target_{metric}"))


def unit_targets(campaign: Campaign) -> QuerySet[UnitTarget]:
    return campaign.unit_targets.select_related("unit").order_by("unit__path", "metric")


# --- teams and composition -------------------------------------------------------------------


@dataclass(frozen=True)
class Composition:
    """A roster against the campaign's rules for its level."""

    required: dict[str, int]
    actual: dict[str, int]
    missing: dict[str, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def total_required(self) -> int:
        return sum(self.required.values())

    @property
    def total(self) -> int:
        return sum(self.actual.values())

    @property
    def complete(self) -> bool:
        """Nobody missing (extra members are flagged but do not make a roster incomplete)."""
        return not self.missing

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra

    def problems(self) -> list[str]:
        labels = dict(Affiliation.choices)
        out = [
            _("thiếu %(n)d %(who)s") % {"n": n, "who": labels[a]} for a, n in self.missing.items()
        ]
        out += [_("thừa %(n)d %(who)s") % {"n": n, "who": labels[a]} for a, n in self.extra.items()]
        return out


def composition_rules(campaign: Campaign, level: str) -> dict[str, int]:
    """Members required per affiliation for a team of `level` (seed: district 10 police +
    10 youth union, commune 2 + 10)."""
    if level == Level.DISTRICT:
        return {
            Affiliation.POLICE: campaign.district_team_police,
            Affiliation.YOUTH_UNION: campaign.district_team_youth,
        }
    return {
        Affiliation.POLICE: campaign.commune_team_police,
        Affiliation.YOUTH_UNION: campaign.commune_team_youth,
    }


def _count_annotations() -> dict[str, Count]:
    return {
        f"n_{a}": Count("members", filter=Q(members__active=True, members__affiliation=a))
        for a in Affiliation.values
    }


def team_composition(team: Team, counts: dict[str, int] | None = None) -> Composition:
    """What the team's active roster lacks or has in excess against the campaign's rules.

    `counts` ({affiliation: n}) skips the query; teams from `teams_for_user` carry them."""
    if counts is None:
        counts = getattr(team, "affiliation_counts", None)
    if counts is None:
        rows = (
            team.members.filter(active=True)
            .values("affiliation")
            .annotate(n=Count("id"))
            .order_by()
        )
        counts = {row["affiliation"]: row["n"] for row in rows}
    required = composition_rules(team.campaign, team.unit.level)
    actual = {a: counts.get(a, 0) for a in Affiliation.values if counts.get(a, 0)}
    missing = {a: n - actual.get(a, 0) for a, n in required.items() if actual.get(a, 0) < n}
    extra = {a: n - required.get(a, 0) for a, n in actual.items() if n > required.get(a, 0)}
    return Composition(required=dict(required), actual=actual, missing=missing, extra=extra)


def teams_for_user(user: User, campaign: Campaign) -> list[Team]:
    """The campaign's teams in the user's subtree, in tree order, each with
    `affiliation_counts` and `composition` set (one query)."""
    teams = (
        Team.objects.filter(campaign=campaign, unit__in=units_for_user(user))
        .select_related("unit", "campaign")
        .annotate(**_count_annotations())
        .order_by("unit__path")
    )
    out = list(teams)
    for team in out:
        team.affiliation_counts = {a: getattr(team, f"n_{a}") for a in Affiliation.values}
        team.composition = team_composition(team)
    return out


def team_get_for_user(user: User, team_id: int) -> Team | None:
    return (
        Team.objects.filter(pk=team_id, unit__in=units_for_user(user))
        .select_related("unit", "campaign", "campaign__province")
        .first()
    )


def roster(team: Team) -> list[Member]:
    """Active members, leaders first, then police, then by name."""
    members = team.members.filter(active=True).select_related("user")
    order = {a: i for i, a in enumerate(Affiliation.values)}
    return sorted(members, key=lambda m: (not m.is_leader, order[m.affiliation], m.full_name))


def team_leader(team: Team) -> Member | None:
    """The team's leader (at most one: the database allows no second)."""
    return Member.objects.filter(team=team, is_leader=True).first()


def _active_memberships(user_id: int) -> QuerySet[Member]:
    return (
        Member.objects.select_related("team__campaign", "team__unit")
        .filter(user_id=user_id, active=True)
        .order_by("pk")
    )


# Every field request asks this: one query, its SQL built once (see gocua.lib.compiled). The
# samples are ids no row has, standing for the user's and the campaign's.
_MEMBER_IN_CURRENT = CompiledLookup(
    lambda user_id: _active_memberships(user_id).filter(team__campaign__is_current=True), -101
)
_MEMBER_IN_CAMPAIGN = CompiledLookup(
    lambda user_id, campaign_id: _active_memberships(user_id).filter(team__campaign_id=campaign_id),
    -101,
    -102,
)


def member_for_user(user: User, campaign: Campaign | None = None) -> Member | None:
    """The user's active membership in `campaign` (the current one by default), with its
    team, campaign and team unit loaded."""
    if not user.is_authenticated:
        return None
    if campaign is None:
        return _MEMBER_IN_CURRENT.first(user.pk)
    return _MEMBER_IN_CAMPAIGN.first(user.pk, campaign.pk)


def members_for_user(user: User, campaign: Campaign) -> QuerySet[Member]:
    """Active members of the campaign's teams in the user's subtree."""
    return Member.objects.filter(
        active=True, team__campaign=campaign, team__unit__in=units_for_user(user)
    ).select_related("team", "team__unit")


# --- hamlets and assignments -----------------------------------------------------------------


def hamlets_of(unit: AdminUnit) -> QuerySet[AdminUnit]:
    return AdminUnit.objects.filter(
        edition=unit.edition, path__startswith=unit.path, level=Level.HAMLET
    ).order_by("path")


def assignments_of(team: Team) -> dict[int, set[int]]:
    """{hamlet id: {member id}} for the team's active members."""
    out: dict[int, set[int]] = {}
    for member_id, hamlet_id in Assignment.objects.filter(
        member__team=team, member__active=True
    ).values_list("member_id", "hamlet_id"):
        out.setdefault(hamlet_id, set()).add(member_id)
    return out


def unassigned_hamlets(unit: AdminUnit, *, campaign: Campaign) -> QuerySet[AdminUnit]:
    """Hamlets under `unit` that no active member of the campaign walks."""
    taken = Assignment.objects.filter(
        hamlet=OuterRef("pk"), member__active=True, member__team__campaign=campaign
    )
    return hamlets_of(unit).filter(~Exists(taken)).select_related("parent")


def member_hamlets(member: Member) -> QuerySet[AdminUnit]:
    return AdminUnit.objects.filter(
        pk__in=Assignment.objects.filter(member=member).values("hamlet_id")
    ).order_by("path")


def hamlets_taken_elsewhere(team: Team) -> set[int]:
    """Hamlets under the team's unit that members of other teams of the campaign walk."""
    return set(
        Assignment.objects.filter(
            member__active=True,
            member__team__campaign_id=team.campaign_id,
            hamlet__edition=team.unit.edition,
            hamlet__path__startswith=team.unit.path,
        )
        .exclude(member__team=team)
        .values_list("hamlet_id", flat=True)
    )


def member_hamlet_names(members: list[Member]) -> dict[int, list[str]]:
    """{member id: [hamlet name]} in one query."""
    out: dict[int, list[str]] = {}
    for member_id, name in (
        Assignment.objects.filter(member__in=members)
        .order_by("hamlet__path")
        .values_list("member_id", "hamlet__name")
    ):
        out.setdefault(member_id, []).append(name)
    return out
