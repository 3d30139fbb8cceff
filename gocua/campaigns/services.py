"""Writes for campaigns: plans, targets, teams, rosters and hamlet assignments.

Every service is keyword-only and runs in one transaction. `actor` is the user on whose behalf
the write happens: when given, the service checks that the user may do it and raises
`NotAllowed` otherwise (views answer 404); `actor=None` is for trusted callers (commands, the
generator, tests). Writes are audited here, whoever calls: `address` is the client's address
(accounts.services.client_ip) for a web or API call; no actor and no address is the command
line. Bad input raises `OperationRefused` with a readable message (and the form
field it concerns, when there is one).
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from gocua.accounts.models import Role, User
from gocua.accounts.services import (
    ROLE_RANK,
    AccountError,
    audit_change,
    audit_record,
    hamlets_named,
    login_code_issue,
    password_reset,
    tokens_revoke_all,
    user_create,
    user_deactivate,
    username_suggest,
)
from gocua.campaigns.models import (
    DEFAULT_MIN_AGE,
    Affiliation,
    Assignment,
    Campaign,
    Member,
    Metric,
    Team,
    UnitTarget,
)
from gocua.campaigns.selectors import (
    TEAM_LEVELS,
    current_campaign,
    is_province_admin,
    manages_unit,
)
from gocua.changes.outbox import campaign_inputs_changed
from gocua.geo.models import AdminUnit, Level
from gocua.lib import phone as phone_lib
from gocua.lib.text import nfc


class OperationRefused(Exception):
    """A write that the rules do not allow; `message` says why, in the user's language."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return self.message


class NotAllowed(OperationRefused):
    """The actor may not touch this object (treated as not found by views)."""

    def __init__(self, message: str = "not allowed"):
        super().__init__(message, code="not_allowed")


def require_manager_of(actor: User | None, unit: AdminUnit) -> None:
    if actor is not None and not manages_unit(actor, unit):
        raise NotAllowed


def _require_province_admin(actor: User | None, province: AdminUnit) -> None:
    if actor is None:
        return
    if not is_province_admin(actor) or not manages_unit(actor, province):
        raise NotAllowed


# --- campaigns -------------------------------------------------------------------------------

CAMPAIGN_FIELDS = (
    "name",
    "start_date",
    "window_days",
    "deadline",
    "min_age",
    "target_registration",
    "target_activation",
    "target_usage",
    "district_team_police",
    "district_team_youth",
    "commune_team_police",
    "commune_team_youth",
    "home_support_per_officer_day",
)
TEAM_SIZE_FIELDS = (
    "district_team_police",
    "district_team_youth",
    "commune_team_police",
    "commune_team_youth",
)


def default_deadline(start_date: dt.date, window_days: int) -> dt.date:
    """The end of the year in which the peak window ends (the seed's deadline)."""
    window_end = start_date + dt.timedelta(days=window_days - 1)
    return dt.date(window_end.year, 12, 31)


def _check_campaign(campaign: Campaign) -> None:
    if not campaign.name.strip():
        raise OperationRefused(_("Hãy đặt tên cho chiến dịch."), field="name")
    if not 1 <= campaign.window_days <= 366:
        raise OperationRefused(_("Thời gian cao điểm phải từ 1 đến 366 ngày."), field="window_days")
    if campaign.deadline < campaign.start_date:
        raise OperationRefused(
            _("Hạn hoàn thành (%(deadline)s) phải sau ngày bắt đầu (%(start)s).")
            % {
                "deadline": f"{campaign.deadline:%d/%m/%Y}",
                "start": f"{campaign.start_date:%d/%m/%Y}",
            },
            field="deadline",
        )
    if not 0 <= campaign.min_age <= 120:
        raise OperationRefused(_("Độ tuổi tối thiểu phải từ 0 đến 120."), field="min_age")
    for metric in Metric.values:
        value = Decimal(str(getattr(campaign, f"target_{metric}")))
        if not 0 < value <= 1:
            raise OperationRefused(
                _("Chỉ tiêu phải lớn hơn 0% và không quá 100%."), field=f"target_{metric}"
            )
    for name in TEAM_SIZE_FIELDS:
        if not 0 <= getattr(campaign, name) <= 200:
            raise OperationRefused(_("Số thành viên phải từ 0 đến 200."), field=name)
    if not 1 <= campaign.home_support_per_officer_day <= 50:
        raise OperationRefused(
            _("Số lượt hỗ trợ tại nhà mỗi ngày phải từ 1 đến 50."),
            field="home_support_per_officer_day",
        )


@transaction.atomic
def campaign_create(
    *,
    name: str,
    province: AdminUnit,
    start_date: dt.date,
    window_days: int = 60,
    deadline: dt.date | None = None,
    min_age: int = DEFAULT_MIN_AGE,
    target_registration: Decimal | float = 1,
    target_activation: Decimal | float = 1,
    target_usage: Decimal | float = Decimal("0.8"),
    district_team_police: int = 10,
    district_team_youth: int = 10,
    commune_team_police: int = 2,
    commune_team_youth: int = 10,
    home_support_per_officer_day: int | None = None,
    make_current: bool = False,
    actor: User | None = None,
    address: str | None = None,
) -> Campaign:
    """Create a campaign plan for a province. Province admins only. The deadline defaults to
    the end of the year in which the window ends. The province's first campaign becomes its
    current campaign; `make_current` makes a later one current (the previous current one of
    that province stops being current; other provinces' are untouched)."""
    if province.level != Level.PROVINCE:
        raise OperationRefused(_("Chiến dịch được lập cho một tỉnh."), field="province")
    _require_province_admin(actor, province)
    campaign = Campaign(
        name=nfc(name),
        province=province,
        start_date=start_date,
        window_days=window_days,
        deadline=deadline or default_deadline(start_date, window_days),
        min_age=min_age,
        target_registration=Decimal(str(target_registration)),
        target_activation=Decimal(str(target_activation)),
        target_usage=Decimal(str(target_usage)),
        district_team_police=district_team_police,
        district_team_youth=district_team_youth,
        commune_team_police=commune_team_police,
        commune_team_youth=commune_team_youth,
    )
    if home_support_per_officer_day is not None:
        campaign.home_support_per_officer_day = home_support_per_officer_day
    _check_campaign(campaign)
    campaign.save()
    first = not Campaign.objects.filter(province=province, is_current=True).exists()
    if make_current or first:
        _make_current(campaign)
    audit_change(actor=actor, action="create", obj=campaign, unit=province, address=address)
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, actor: User | None = None, address: str | None = None, **changes: object
) -> Campaign:
    """Change any of CAMPAIGN_FIELDS. Province admins only; validated as on creation."""
    _require_province_admin(actor, campaign.province)
    unknown = set(changes) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"campaign_update() got unknown fields {sorted(unknown)}")
    for name, value in changes.items():
        if name.startswith("target_"):
            value = Decimal(str(value))
        if name == "name":
            value = nfc(str(value))
        setattr(campaign, name, value)
    _check_campaign(campaign)
    if changes:
        campaign.save(update_fields=list(changes))
    if campaign.is_current and ROLLUP_INPUTS & set(changes):
        campaign_inputs_changed()
    audit_change(
        actor=actor, action="update", obj=campaign, unit=campaign.province, address=address
    )
    return campaign


# What the rollups were built with: changing it may invalidate them (reports.rollups).
ROLLUP_INPUTS = {"start_date", "min_age"}


@transaction.atomic
def campaign_make_current(
    *, campaign: Campaign, actor: User | None = None, address: str | None = None
) -> Campaign:
    """Make `campaign` the current campaign of its province. Province admins only."""
    _require_province_admin(actor, campaign.province)
    _make_current(campaign)
    audit_change(
        actor=actor, action="update", obj=campaign, unit=campaign.province, address=address
    )
    return campaign


def _make_current(campaign: Campaign) -> None:
    Campaign.objects.filter(province=campaign.province, is_current=True).exclude(
        pk=campaign.pk
    ).update(is_current=False)
    if not campaign.is_current:
        campaign.is_current = True
        campaign.save(update_fields=["is_current"])
        campaign_inputs_changed()


@transaction.atomic
def unit_target_set(
    *,
    campaign: Campaign,
    unit: AdminUnit,
    metric: str,
    value: Decimal | float,
    actor: User | None = None,
    address: str | None = None,
) -> UnitTarget:
    """Override one target for a unit's subtree (replaces an earlier override)."""
    _require_province_admin(actor, campaign.province)
    if metric not in Metric.values:
        raise OperationRefused(_("Chỉ tiêu không hợp lệ."), field="metric")
    if unit.edition != campaign.province.edition or not unit.path.startswith(
        campaign.province.path
    ):
        raise OperationRefused(_("Đơn vị không thuộc tỉnh của chiến dịch."), field="unit")
    value = Decimal(str(value))
    if not 0 < value <= 1:
        raise OperationRefused(_("Chỉ tiêu phải lớn hơn 0% và không quá 100%."), field="value")
    target, _created = UnitTarget.objects.update_or_create(
        campaign=campaign, unit=unit, metric=metric, defaults={"value": value}
    )
    audit_change(actor=actor, action="update", obj=target, unit=unit, address=address)
    return target


@transaction.atomic
def unit_target_remove(*, target: UnitTarget, actor: User | None = None) -> None:
    _require_province_admin(actor, target.campaign.province)
    target.delete()


# --- teams -----------------------------------------------------------------------------------


def _team_name(unit: AdminUnit) -> str:
    return _("Tổ VNeID %(unit)s") % {"unit": unit.name}


def _check_team_unit(campaign: Campaign, unit: AdminUnit) -> None:
    if unit.level not in TEAM_LEVELS:
        raise OperationRefused(_("Tổ công tác chỉ lập ở cấp huyện và cấp xã."), field="unit")
    if unit.edition != campaign.province.edition or not unit.path.startswith(
        campaign.province.path
    ):
        raise OperationRefused(_("Đơn vị không thuộc tỉnh của chiến dịch."), field="unit")


@transaction.atomic
def team_create(
    *, campaign: Campaign, unit: AdminUnit, name: str = "", actor: User | None = None
) -> Team:
    """The VNeID team of one district or commune (one per unit and campaign)."""
    _check_team_unit(campaign, unit)
    require_manager_of(actor, unit)
    if Team.objects.filter(campaign=campaign, unit=unit).exists():
        raise OperationRefused(_("%(unit)s đã có tổ công tác.") % {"unit": unit.name}, field="unit")
    return Team.objects.create(campaign=campaign, unit=unit, name=nfc(name) or _team_name(unit))


@transaction.atomic
def teams_create_missing(
    *,
    campaign: Campaign,
    under: AdminUnit | None = None,
    actor: User | None = None,
    address: str | None = None,
) -> list[Team]:
    """Create the team of every district and commune under `under` (default: the province)
    that has none yet. Idempotent: running it again creates nothing."""
    root = under or campaign.province
    if root.edition != campaign.province.edition or not root.path.startswith(
        campaign.province.path
    ):
        raise OperationRefused(_("Đơn vị không thuộc tỉnh của chiến dịch."), field="unit")
    require_manager_of(actor, root)
    units = AdminUnit.objects.filter(
        edition=root.edition, path__startswith=root.path, level__in=TEAM_LEVELS
    ).exclude(teams__campaign=campaign)
    teams = [Team(campaign=campaign, unit=u, name=_team_name(u)) for u in units.order_by("path")]
    Team.objects.bulk_create(teams, ignore_conflicts=True)
    audit_record(
        user=actor,
        command_line=actor is None and address is None,
        action="create",
        object_type="team",
        object_id="",
        unit=under,
        ip=address,
        detail={"created": len(teams)},
    )
    return teams


# --- rosters ---------------------------------------------------------------------------------


def _clean_member_fields(
    team: Team, fields: dict[str, Any], *, member: Member | None = None
) -> dict[str, Any]:
    out = dict(fields)
    if "full_name" in out:
        out["full_name"] = nfc(str(out["full_name"]))
        if not out["full_name"]:
            raise OperationRefused(_("Hãy nhập họ và tên."), field="full_name")
    if "affiliation" in out and out["affiliation"] not in Affiliation.values:
        raise OperationRefused(_("Lực lượng không hợp lệ."), field="affiliation")
    if "phone" in out:
        try:
            out["phone"] = phone_lib.normalize(out["phone"])
        except phone_lib.PhoneError:
            raise OperationRefused(
                _("Số điện thoại không hợp lệ (cần 10 số, đầu số di động Việt Nam)."),
                field="phone",
            ) from None
    user = out.get("user")
    if user is not None:
        if (
            not user.is_active
            or user.unit_id is None
            or not (
                user.unit.edition == team.unit.edition and user.unit.path.startswith(team.unit.path)
            )
        ):
            raise OperationRefused(
                _("Tài khoản này không thuộc %(unit)s.") % {"unit": team.unit.name}, field="user"
            )
        elsewhere = Member.objects.filter(user=user, active=True, team__campaign=team.campaign)
        if member is not None:
            elsewhere = elsewhere.exclude(pk=member.pk)
        if elsewhere.exists():
            raise OperationRefused(
                _("Tài khoản này đã là thành viên một tổ khác của chiến dịch."), field="user"
            )
    return out


@transaction.atomic
def member_add(
    *,
    team: Team,
    full_name: str,
    affiliation: str,
    phone: str = "",
    user: User | None = None,
    is_leader: bool = False,
    actor: User | None = None,
    address: str | None = None,
) -> Member:
    """Add a person to a team's roster. The phone is stored as 10 digits; a user account, if
    given, must belong to the team's unit and to no other team of the campaign. A new leader
    takes the place of the previous one (see _leadership_moves_to)."""
    require_manager_of(actor, team.unit)
    fields = _clean_member_fields(
        team,
        {
            "full_name": full_name,
            "affiliation": affiliation,
            "phone": phone,
            "user": user,
            "is_leader": is_leader,
        },
    )
    if fields["is_leader"]:
        _leadership_moves_to(team)
    member = Member.objects.create(team=team, **fields)
    audit_change(actor=actor, action="create", obj=member, unit=team.unit, address=address)
    return member


def _leadership_moves_to(team: Team) -> Member | None:
    """Untick the team's current leader before another member is ticked, so a team never has
    two. Ticking a new leader is how a manager replaces one (asking them to untick the old
    leader first would be one more step for the same result); the page names who was replaced.
    The team row is locked so two managers ticking at once are applied one after the other
    (the unique constraint `one_leader_per_team` refuses anything that slips past)."""
    Team.objects.select_for_update().filter(pk=team.pk).first()
    previous = Member.objects.filter(team=team, is_leader=True).first()
    if previous is not None:
        previous.is_leader = False
        previous.save(update_fields=["is_leader"])
    return previous


MEMBER_FIELDS = ("full_name", "affiliation", "phone", "user", "is_leader")


@transaction.atomic
def member_update(
    *, member: Member, actor: User | None = None, address: str | None = None, **changes: object
) -> Member:
    """Change any of MEMBER_FIELDS, validated as in member_add; ticking a member as leader
    unticks the previous leader."""
    require_manager_of(actor, member.team.unit)
    unknown = set(changes) - set(MEMBER_FIELDS)
    if unknown:
        raise TypeError(f"member_update() got unknown fields {sorted(unknown)}")
    cleaned = _clean_member_fields(member.team, changes, member=member)
    if cleaned.get("is_leader") and not member.is_leader:
        _leadership_moves_to(member.team)
    for name, value in cleaned.items():
        setattr(member, name, value)
    if changes:
        member.save(update_fields=list(changes))
    audit_change(actor=actor, action="update", obj=member, unit=member.team.unit, address=address)
    return member


@transaction.atomic
def member_remove(
    *, member: Member, actor: User | None = None, address: str | None = None
) -> Member:
    """Take a member off the roster. The row stays (their visits keep naming them); their
    hamlets become unassigned."""
    require_manager_of(actor, member.team.unit)
    member.assignments.all().delete()
    member.active = False
    member.save(update_fields=["active"])
    audit_change(actor=actor, action="delete", obj=member, unit=member.team.unit, address=address)
    return member


# --- assignments -----------------------------------------------------------------------------


def _team_hamlets(team: Team, hamlet_ids: Iterable[int]) -> set[int]:
    wanted = set(hamlet_ids)
    found = set(
        AdminUnit.objects.filter(
            pk__in=wanted,
            level=Level.HAMLET,
            edition=team.unit.edition,
            path__startswith=team.unit.path,
        ).values_list("pk", flat=True)
    )
    if found != wanted:
        raise OperationRefused(
            _("Có ấp/khu phố không thuộc %(unit)s.") % {"unit": team.unit.name}, field="hamlets"
        )
    return found


@transaction.atomic
def assignments_set(
    *,
    team: Team,
    hamlet_ids: Iterable[int],
    pairs: Iterable[tuple[int, int]],
    actor: User | None = None,
    address: str | None = None,
) -> tuple[int, int]:
    """Make the assignments of the team's hamlets `hamlet_ids` exactly `pairs`
    ((member id, hamlet id)); assignments of other hamlets are left alone. A hamlet may have
    several members. Returns (added, removed)."""
    require_manager_of(actor, team.unit)
    hamlets = _team_hamlets(team, hamlet_ids)
    wanted = set(pairs)
    members = set(team.members.filter(active=True).values_list("pk", flat=True))
    if any(m not in members or h not in hamlets for m, h in wanted):
        raise OperationRefused(_("Phân công không hợp lệ: thành viên hoặc địa bàn lạ."))
    current = set(
        Assignment.objects.filter(member__team=team, hamlet_id__in=hamlets).values_list(
            "member_id", "hamlet_id"
        )
    )
    removed = current - wanted
    if removed:
        gone = Q()
        for member_id, hamlet_id in removed:
            gone |= Q(member_id=member_id, hamlet_id=hamlet_id)
        Assignment.objects.filter(gone).delete()
    added = wanted - current
    Assignment.objects.bulk_create(
        [Assignment(member_id=m, hamlet_id=h) for m, h in sorted(added)], ignore_conflicts=True
    )
    audit_record(
        user=actor,
        command_line=actor is None and address is None,
        action="update",
        object_type="assignment",
        object_id=team.pk,
        unit=team.unit,
        ip=address,
        detail={"added": len(added), "removed": len(removed)},
    )
    return len(added), len(removed)


@transaction.atomic
def assignment_add(*, member: Member, hamlet: AdminUnit, actor: User | None = None) -> Assignment:
    """Give one hamlet of the team's unit to a member (idempotent)."""
    require_manager_of(actor, member.team.unit)
    _team_hamlets(member.team, [hamlet.pk])
    if not member.active:
        raise OperationRefused(_("Thành viên này không còn trong tổ."), field="member")
    assignment, _created = Assignment.objects.get_or_create(member=member, hamlet=hamlet)
    return assignment


def member_phone_revoke(
    *, member: Member, actor: User | None = None, request: HttpRequest | None = None
) -> int:
    """A member lost their phone: end every API token of their account, so the phone's field
    page stops working (its outbox waits until they log in again). Returns how many tokens
    were live. The member's unit manager only; audited by the token service."""
    require_manager_of(actor, member.team.unit)
    if member.user is None:
        return 0
    return tokens_revoke_all(user=member.user, by=actor, reason="lost_phone", request=request)


# --- accounts of the team's members ------------------------------------------------------------


@transaction.atomic
def member_account_give(
    *, member: Member, actor: User | None = None, request: HttpRequest | None = None
) -> str:
    """Give a roster member an account to log in with (a volunteer on their phone): a field
    member of the team's unit, named after them (see username_suggest), with no password but a
    one-time code for their login card, which this returns. Their hamlet assignments are
    theirs at once. The team's unit manager only; audited."""
    require_manager_of(actor, member.team.unit)
    if member.user is not None:
        raise OperationRefused(
            _("%(name)s đã có tài khoản %(username)s.")
            % {"name": member.full_name, "username": member.user.username}
        )
    try:
        user = user_create(
            username=username_suggest(member.full_name),
            role=Role.FIELD_MEMBER,
            unit=member.team.unit,
            password=None,
            full_name=member.full_name,
            created_by=actor,
            request=request,
        )
    except AccountError as exc:
        raise OperationRefused(str(exc)) from None
    member.user = user
    member.save(update_fields=["user"])
    _row, code = login_code_issue(user=user, by=actor, request=request)
    return code


def team_accounts_give(
    *, team: Team, actor: User | None = None, request: HttpRequest | None = None
) -> list[tuple[Member, str]]:
    """Accounts for every active member of the team who has none: [(member, code)]."""
    require_manager_of(actor, team.unit)
    given: list[tuple[Member, str]] = []
    for member in team.members.filter(active=True, user__isnull=True).order_by("full_name"):
        given.append((member, member_account_give(member=member, actor=actor, request=request)))
    return given


def _members_account(member: Member, actor: User | None) -> User:
    require_manager_of(actor, member.team.unit)
    user = member.user
    if user is None:
        raise OperationRefused(_("%(name)s chưa có tài khoản.") % {"name": member.full_name})
    # An account of another unit linked to this roster is not theirs (nor one with no unit).
    if actor is not None and (user.unit is None or not manages_unit(actor, user.unit)):
        raise NotAllowed
    if ROLE_RANK.get(user.role, 9) >= ROLE_RANK[Role.UNIT_MANAGER]:
        raise OperationRefused(_("Tài khoản cán bộ quản lý do cấp trên quản lý."))
    return user


@transaction.atomic
def member_password_reset(
    *, member: Member, actor: User | None = None, request: HttpRequest | None = None
) -> str:
    """A member forgot their password: the old one stops at once, their phone is logged out,
    and a new one-time code (returned) goes on a new login card."""
    user = _members_account(member, actor)
    return password_reset(user=user, by=actor, request=request)


@transaction.atomic
def member_account_close(
    *, member: Member, actor: User | None = None, request: HttpRequest | None = None
) -> None:
    """A member leaves: their account is deactivated (its tokens and codes end)."""
    user = _members_account(member, actor)
    user_deactivate(user=user, by=actor, request=request)


@transaction.atomic
def user_create_assigned(
    *,
    username: str,
    role: str,
    unit: AdminUnit,
    password: str | None,
    full_name: str = "",
    hamlets: str | Sequence[str] | None = None,
    affiliation: str = Affiliation.OTHER,
) -> User:
    """An account made on the command line (`gocua user create`, the demo): accounts'
    user_create, and for a field member given `hamlets`, their membership in the commune's team
    of the current campaign (team and member created when missing, as a trusted caller) with
    one assignment per hamlet. Atomic: on any AccountError nothing is written."""
    user = user_create(
        username=username,
        role=role,
        unit=unit,
        password=password,
        full_name=full_name,
        hamlets=hamlets,
    )
    if hamlets is not None:
        _assign_hamlets(user, unit, hamlets_named(unit, hamlets), affiliation)
    return user


def _assign_hamlets(
    user: User, commune: AdminUnit, hamlets: list[AdminUnit], affiliation: str
) -> None:
    campaign = current_campaign(commune)
    if campaign is None:
        raise AccountError(
            f"{commune.name}'s province has no current campaign to assign hamlets in: create "
            "the campaign first "
            "(or create the user without --hamlets and assign later)"
        )
    try:
        team = Team.objects.filter(campaign=campaign, unit=commune).first()
        if team is None:
            team = team_create(campaign=campaign, unit=commune)
        member = Member.objects.filter(team=team, user=user).first()
        if member is None:
            member = member_add(
                team=team,
                full_name=user.get_full_name() or user.get_username(),
                affiliation=affiliation,
                user=user,
            )
        for hamlet in hamlets:
            assignment_add(member=member, hamlet=hamlet)
    except OperationRefused as exc:
        raise AccountError(str(exc)) from None
