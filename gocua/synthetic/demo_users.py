"""Accounts for trying the demo: one per role, on the synthetic province.

Only for `make demo` (synthetic data, served on 127.0.0.1); real deployments create accounts
with `gocua user create`. Re-running replaces the demo accounts, so the demo works after
`gocua generate --replace` has rebuilt the teams.
"""

from django.db import transaction

from gocua.accounts.models import User
from gocua.accounts.services import user_create
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
    district = commune.parent if commune.parent.level == Level.DISTRICT else province
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
        user_create(
            username=username,
            role=role,
            unit=unit,
            password=password,
            hamlets=hamlets,
            affiliation="youth_union",
        )
        made.append({"username": username, "role": role, "unit": f"{unit.name} ({unit.code})"})
    return made
