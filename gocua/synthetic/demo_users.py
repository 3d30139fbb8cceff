"""Accounts for trying the demo: one per role, on the synthetic province, and the login cards
of one team, as a unit manager would print them.

Only for `make demo` (synthetic data, served on 127.0.0.1); real deployments give accounts in
the web (the team's roster, the accounts page) or with `gocua user create`. Re-running replaces
the demo accounts, so the demo works after `gocua generate --replace` has rebuilt the teams.
"""

from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory

from gocua.accounts.cards import login_card
from gocua.accounts.models import User
from gocua.campaigns.models import Member, Team
from gocua.campaigns.services import team_accounts_give, user_create_assigned
from gocua.geo.models import AdminUnit, Level

DEMO_USERNAMES = ("demo_tinh", "demo_huyen", "demo_xa", "demo_tnv", "demo_xem")


@transaction.atomic
def demo_users_ensure(*, province: AdminUnit, password: str) -> list[dict]:
    """(Re)create the demo accounts; returns [{username, role, unit}] for the README/console."""
    commune = (
        AdminUnit.objects.filter(
            edition=province.edition,
            path__startswith=province.path,
            level=Level.COMMUNE,
            children__level=Level.HAMLET,
        )
        .order_by("code")
        .select_related("parent")
        .first()
    )
    if commune is None:
        raise ValueError("the province has no hamlets yet: run gocua generate first")
    parent = commune.parent
    district = parent if parent is not None and parent.level == Level.DISTRICT else province
    User.objects.filter(username__in=DEMO_USERNAMES).delete()
    plan = [
        ("demo_tinh", "province_admin", province, None),
        ("demo_huyen", "unit_manager", district, None),
        ("demo_xa", "unit_manager", commune, None),
        ("demo_tnv", "field_member", commune, "all"),
        ("demo_xem", "viewer", province, None),
    ]
    made = []
    for username, role, unit, hamlets in plan:
        volunteer = _team_volunteer(commune) if role == "field_member" else None
        user = user_create_assigned(
            username=username,
            role=role,
            unit=unit,
            password=password,
            hamlets=None if volunteer else hamlets,
            affiliation="youth_union",
        )
        if volunteer is not None:
            # A real member's place on the roster (the team keeps its 2 + 10), with the
            # hamlets that member walks.
            volunteer.user = user
            volunteer.save(update_fields=["user"])
        made.append({"username": username, "role": role, "unit": f"{unit.name} ({unit.code})"})
    return made


def _team_volunteer(commune: AdminUnit) -> Member | None:
    """A youth-union member of the commune's team who walks hamlets and has no account."""
    return (
        Member.objects.filter(
            team__unit=commune,
            team__campaign__is_current=True,
            affiliation="youth_union",
            active=True,
            user__isnull=True,
            assignments__isnull=False,
        )
        .order_by("full_name", "id")
        .first()
    )


def demo_login_cards(*, province: AdminUnit, base_url: str) -> tuple[Team, str]:
    """Give the demo commune's team (that of demo_xa) accounts for every member without one,
    and return the team and its sheet of login cards as an HTML page (what the roster's
    "give accounts" button prints), with addresses on `base_url`."""
    commune = User.objects.get(username="demo_xa").unit
    assert commune is not None  # demo_users gave demo_xa the demo commune
    team = Team.objects.select_related("unit").get(unit=commune, campaign__is_current=True)
    given = team_accounts_give(team=team)
    host, _, port = base_url.split("://", 1)[-1].rstrip("/").partition(":")
    request = RequestFactory().get("/", SERVER_NAME=host, SERVER_PORT=port or "80")
    cards = [
        login_card(request, user=member.user, code=code, where=f"{team.name} · {commune.name}")
        for member, code in given
    ]
    html = render_to_string(
        "accounts/login_cards.html", {"cards": cards, "title": team.name}, request=request
    )
    return team, html
