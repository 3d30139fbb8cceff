"""Campaign pages: the operations hub, plans and targets, teams, rosters and assignments.

Every object is looked up through a scoped selector: outside the user's jurisdiction it does not
exist (404). Writes call a service (which audits them) and redirect (so a reload never repeats
them).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gocua.accounts.cards import login_card
from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import (
    can_see_residents,
    is_manager,
    live_tokens_by_user,
    units_for_user,
)
from gocua.accounts.services import client_ip
from gocua.campaigns import selectors, services
from gocua.campaigns.forms import (
    CampaignCreateForm,
    CampaignForm,
    MemberForm,
    UnitTargetForm,
    add_refusal,
)
from gocua.campaigns.models import Campaign, Member, UnitTarget
from gocua.campaigns.services import OperationRefused
from gocua.fieldwork import selectors as fieldwork_selectors
from gocua.people import selectors as people_selectors


def _404_unless(condition: bool) -> None:
    if not condition:
        raise Http404


def _campaign_or_404(request: AuthenticatedHttpRequest, pk: int) -> Campaign:
    campaign = selectors.campaigns_for_user(request.user).filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def _chosen_campaign(request: AuthenticatedHttpRequest) -> Campaign | None:
    """`?campaign=ID` among the user's campaigns, else the current one."""
    raw = request.GET.get("campaign", "")
    if raw.isdigit():
        return _campaign_or_404(request, int(raw))
    current = selectors.current_campaign_for_user(request.user)
    if (
        current is not None
        and not selectors.campaigns_for_user(request.user).filter(pk=current.pk).exists()
    ):
        return None
    return current


# --- hub and plans ---------------------------------------------------------------------------


@login_required
@require_GET
def campaign_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The operations hub: the campaigns, the current plan, and links to every page."""
    campaigns = list(selectors.campaigns_for_user(request.user))
    current = next((c for c in campaigns if c.is_current), None)
    return render(
        request,
        "campaigns/campaign_list.html",
        {
            "campaigns": campaigns,
            "current": current,
            "can_plan": selectors.is_province_admin(request.user),
            "is_manager": is_manager(request.user),
            "sees_people": can_see_residents(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    _404_unless(selectors.is_province_admin(user))
    province = selectors.province_of(user)
    if province is None:
        raise Http404
    form = CampaignCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                province=province, actor=user, address=client_ip(request), **form.cleaned_data
            )
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Đã lập chiến dịch."))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "province": province})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The plan, its targets and per-unit overrides; province admins edit it here."""
    campaign = _campaign_or_404(request, pk)
    can_plan = selectors.is_province_admin(request.user) and selectors.manages_unit(
        request.user, campaign.province
    )
    form = CampaignForm.for_campaign(campaign, request.POST if request.method == "POST" else None)
    target_form = UnitTargetForm(campaign=campaign)
    if request.method == "POST":
        _404_unless(can_plan)
        if form.is_valid():
            changes = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                services.campaign_update(
                    campaign=campaign, actor=request.user, address=client_ip(request), **changes
                )
            except OperationRefused as exc:
                campaign.refresh_from_db()
                add_refusal(form, exc)
            else:
                messages.success(request, _("Đã lưu kế hoạch."))
                return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request,
        "campaigns/campaign_detail.html",
        {
            "campaign": campaign,
            "period": selectors.period_text(campaign),
            "targets": list(selectors.unit_targets(campaign)),
            "form": form,
            "target_form": target_form,
            "can_plan": can_plan,
        },
    )


@login_required
@require_POST
def campaign_current(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    try:
        services.campaign_make_current(
            campaign=campaign, actor=request.user, address=client_ip(request)
        )
    except services.NotAllowed:
        raise Http404 from None
    messages.success(request, _("%(name)s là chiến dịch hiện hành.") % {"name": campaign.name})
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@require_POST
def target_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    form = UnitTargetForm(request.POST, campaign=campaign)
    if form.is_valid():
        try:
            target = services.unit_target_set(
                campaign=campaign,
                actor=request.user,
                address=client_ip(request),
                **form.cleaned_data,
            )
        except services.NotAllowed:
            raise Http404 from None
        except OperationRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Đã đặt chỉ tiêu riêng cho %(unit)s.") % {"unit": target.unit.name}
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                # An ErrorList yields its messages (its stubs say ValidationError too).
                messages.error(request, str(error))
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@require_POST
def target_remove(request: AuthenticatedHttpRequest, pk: int, target_id: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    target = UnitTarget.objects.filter(campaign=campaign, pk=target_id).first()
    if target is None:
        raise Http404
    try:
        services.unit_target_remove(target=target, actor=request.user)
    except services.NotAllowed:
        raise Http404 from None
    messages.success(request, _("Đã bỏ chỉ tiêu riêng."))
    return redirect("campaigns:detail", pk=campaign.pk)


# --- teams -----------------------------------------------------------------------------------


@login_required
@require_GET
def team_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Teams of the campaign in the user's subtree with their composition; viewers see counts
    only (no roster)."""
    user = request.user
    _404_unless(is_manager(user) or not can_see_residents(user) and user.is_authenticated)
    campaign = _chosen_campaign(request)
    teams = selectors.teams_for_user(user, campaign) if campaign else []
    missing_units = 0
    if campaign is not None and is_manager(user):
        missing_units = (
            units_for_user(user)
            .filter(level__in=selectors.TEAM_LEVELS)
            .exclude(teams__campaign=campaign)
            .count()
        )
    flagged = [t for t in teams if not t.composition.ok]
    only_flagged = request.GET.get("flagged") == "1"
    return render(
        request,
        "campaigns/team_list.html",
        {
            "campaign": campaign,
            "teams": flagged if only_flagged else teams,
            "all_teams": len(teams),
            "only_flagged": only_flagged,
            "incomplete": len(flagged),
            "missing_units": missing_units,
            "is_manager": is_manager(user),
        },
    )


@login_required
@require_POST
def teams_create_missing(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    _404_unless(is_manager(user))
    campaign = selectors.current_campaign_for_user(user)
    if campaign is None:
        raise Http404
    under = user.unit if user.unit_id else None
    if under is not None and under.level not in (*selectors.TEAM_LEVELS, "province"):
        raise Http404
    try:
        created = services.teams_create_missing(
            campaign=campaign, under=under, actor=user, address=client_ip(request)
        )
    except services.NotAllowed:
        raise Http404 from None
    except OperationRefused as exc:
        messages.error(request, exc.message)
        return redirect("campaigns:teams")
    messages.success(request, _("Đã lập %(n)d tổ còn thiếu.") % {"n": len(created)})
    return redirect("campaigns:teams")


def _team_for_manager(request: AuthenticatedHttpRequest, pk: int):
    _404_unless(is_manager(request.user))
    team = selectors.team_get_for_user(request.user, pk)
    if team is None:
        raise Http404
    return team


@login_required
@require_http_methods(["GET", "POST"])
def team_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The roster, its composition against the rules, and a form to add a member."""
    team = _team_for_manager(request, pk)
    form = MemberForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        previous = selectors.team_leader(team)
        try:
            member = services.member_add(
                team=team, actor=request.user, address=client_ip(request), **form.cleaned_data
            )
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Đã thêm %(name)s.") % {"name": member.full_name})
            _say_leader_replaced(request, member, previous)
            return redirect("campaigns:team", pk=team.pk)
    members = selectors.roster(team)
    hamlets = selectors.member_hamlet_names(members)
    trained = fieldwork_selectors.trained_member_ids(members)
    phones = live_tokens_by_user([m.user_id for m in members if m.user_id])
    for m in members:
        m.hamlet_names = hamlets.get(m.pk, [])
        m.trained = m.pk in trained
        m.phone_login = phones.get(m.user_id) if m.user_id is not None else None
    return render(
        request,
        "campaigns/team_detail.html",
        {
            "team": team,
            "members": members,
            "composition": selectors.team_composition(team),
            "form": form,
            "without_account": sum(1 for m in members if m.user_id is None),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: AuthenticatedHttpRequest, pk: int, member_id: int) -> HttpResponse:
    team = _team_for_manager(request, pk)
    member = Member.objects.filter(team=team, pk=member_id, active=True).first()
    if member is None:
        raise Http404
    initial = {
        "full_name": member.full_name,
        "affiliation": member.affiliation,
        "phone": member.phone,
        "user": member.user_id,
        "is_leader": member.is_leader,
    }
    form = MemberForm(request.POST or None, team=team, member=member, initial=initial)
    if request.method == "POST" and form.is_valid():
        previous = selectors.team_leader(team)
        try:
            services.member_update(
                member=member, actor=request.user, address=client_ip(request), **form.cleaned_data
            )
        except OperationRefused as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Đã lưu."))
            _say_leader_replaced(request, member, previous)
            return redirect("campaigns:team", pk=team.pk)
    return render(
        request, "campaigns/member_form.html", {"team": team, "member": member, "form": form}
    )


def _say_leader_replaced(
    request: AuthenticatedHttpRequest, member: Member, previous: Member | None
) -> None:
    if member.is_leader and previous is not None and previous.pk != member.pk:
        messages.info(
            request,
            _("%(name)s nay là tổ trưởng, thay %(previous)s.")
            % {"name": member.full_name, "previous": previous.full_name},
        )


def _cards(
    request: AuthenticatedHttpRequest, team, given: list[tuple[Member, str]]
) -> HttpResponse:
    """The login cards of the members just given codes (shown once: never from a GET)."""
    cards = [
        login_card(request, user=member.user, code=code, where=f"{team.name} · {team.unit.name}")
        for member, code in given
    ]
    return render(
        request,
        "accounts/login_cards.html",
        {"cards": cards, "title": team.name, "back": reverse("campaigns:team", args=[team.pk])},
    )


def _active_member_or_404(team, member_id: int) -> Member:
    member = (
        Member.objects.filter(team=team, pk=member_id, active=True)
        .select_related("user__unit")
        .first()
    )
    if member is None:
        raise Http404
    return member


_REFUSED = object()


def _attempt(request: AuthenticatedHttpRequest, action):
    """Run an account action of the team page: outside the manager's reach answers 404; a
    refusal is shown as a message and gives _REFUSED (the caller goes back to the team)."""
    try:
        return action()
    except services.NotAllowed:
        raise Http404 from None
    except OperationRefused as exc:
        messages.error(request, exc.message)
        return _REFUSED


@login_required
@require_POST
def member_account(request: AuthenticatedHttpRequest, pk: int, member_id: int) -> HttpResponse:
    """Give one member an account: their login card, with a one-time code."""
    team = _team_for_manager(request, pk)
    member = _active_member_or_404(team, member_id)
    code = _attempt(
        request,
        lambda: services.member_account_give(member=member, actor=request.user, request=request),
    )
    if code is _REFUSED:
        return redirect("campaigns:team", pk=team.pk)
    return _cards(request, team, [(member, code)])


@login_required
@require_POST
def team_accounts(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Give every member of the team without an account one: a sheet of login cards."""
    team = _team_for_manager(request, pk)
    given = _attempt(
        request,
        lambda: services.team_accounts_give(team=team, actor=request.user, request=request),
    )
    if given is _REFUSED:
        return redirect("campaigns:team", pk=team.pk)
    if not given:
        messages.info(request, _("Mọi thành viên đều đã có tài khoản."))
        return redirect("campaigns:team", pk=team.pk)
    return _cards(request, team, given)


@login_required
@require_POST
def member_password_reset(
    request: AuthenticatedHttpRequest, pk: int, member_id: int
) -> HttpResponse:
    """A member forgot their password: a new login card (the old password stops working)."""
    team = _team_for_manager(request, pk)
    member = _active_member_or_404(team, member_id)
    code = _attempt(
        request,
        lambda: services.member_password_reset(member=member, actor=request.user, request=request),
    )
    if code is _REFUSED:
        return redirect("campaigns:team", pk=team.pk)
    return _cards(request, team, [(member, code)])


@login_required
@require_POST
def member_account_close(
    request: AuthenticatedHttpRequest, pk: int, member_id: int
) -> HttpResponse:
    team = _team_for_manager(request, pk)
    member = _active_member_or_404(team, member_id)
    closed = _attempt(
        request,
        lambda: services.member_account_close(member=member, actor=request.user, request=request),
    )
    if closed is not _REFUSED:
        messages.success(request, _("Đã khoá tài khoản của %(name)s.") % {"name": member.full_name})
    return redirect("campaigns:team", pk=team.pk)


@login_required
@require_POST
def member_phone_revoke(request: AuthenticatedHttpRequest, pk: int, member_id: int) -> HttpResponse:
    """A lost phone: its field page must log in again (its outbox is kept on the phone)."""
    team = _team_for_manager(request, pk)
    member = Member.objects.filter(team=team, pk=member_id).select_related("user").first()
    if member is None or member.user_id is None:
        raise Http404
    try:
        count = services.member_phone_revoke(member=member, actor=request.user, request=request)
    except services.NotAllowed:
        raise Http404 from None
    messages.success(
        request,
        _("Đã thu hồi %(n)d phiên đăng nhập trên điện thoại của %(name)s.")
        % {"n": count, "name": member.full_name},
    )
    return redirect("campaigns:team", pk=team.pk)


@login_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, pk: int, member_id: int) -> HttpResponse:
    team = _team_for_manager(request, pk)
    member = Member.objects.filter(team=team, pk=member_id, active=True).first()
    if member is None:
        raise Http404
    services.member_remove(member=member, actor=request.user, address=client_ip(request))
    messages.success(request, _("Đã đưa %(name)s ra khỏi tổ.") % {"name": member.full_name})
    return redirect("campaigns:team", pk=team.pk)


def _assignments_save(request: AuthenticatedHttpRequest, team, hamlets: list) -> None:
    """The posted checkboxes (a_<hamlet>_<member>) as the team's assignments, with a message."""
    pairs = []
    for key in request.POST:
        if key.startswith("a_"):
            try:
                hamlet_id, member_id = (int(x) for x in key[2:].split("_"))
            except ValueError:
                continue
            pairs.append((member_id, hamlet_id))
    try:
        added, removed = services.assignments_set(
            team=team,
            hamlet_ids=[h.pk for h in hamlets],
            pairs=pairs,
            actor=request.user,
            address=client_ip(request),
        )
    except OperationRefused as exc:
        messages.error(request, exc.message)
        return
    messages.success(
        request,
        _("Đã lưu phân công: thêm %(added)d, bỏ %(removed)d.")
        % {"added": added, "removed": removed},
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_assignments(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Hamlets × members with checkboxes, each hamlet's resident and gap counts beside it."""
    team = _team_for_manager(request, pk)
    members = selectors.roster(team)
    hamlets = list(selectors.hamlets_of(team.unit).select_related("parent"))
    if request.method == "POST":
        _assignments_save(request, team, hamlets)
        return redirect("campaigns:assignments", pk=team.pk)
    counts = people_selectors.hamlet_counts(
        team.unit, campaign=team.campaign, on=timezone.localdate()
    )
    assigned = selectors.assignments_of(team)
    elsewhere = selectors.hamlets_taken_elsewhere(team)
    rows = []
    for h in hamlets:
        mine = assigned.get(h.pk, set())
        rows.append(
            {
                "hamlet": h,
                "counts": counts.get(h.pk, {"residents": 0, "eligible": 0, "gap": 0}),
                "cells": [(m, m.pk in mine) for m in members],
                "unassigned": not mine and h.pk not in elsewhere,
            }
        )
    return render(
        request,
        "campaigns/assignments.html",
        {
            "team": team,
            "members": members,
            "rows": rows,
            "unassigned": [r for r in rows if r["unassigned"]],
            "show_commune": team.unit.level == "district",
        },
    )
