"""The one way to scope data to a user's jurisdiction.

Every page, API route, export, import and worklist asks these functions what the user may see.
Objects outside the answer must be treated as not existing (404), never as forbidden.
"""

from django.db.models import QuerySet

from gocua.accounts.models import Role, User
from gocua.geo.models import AdminUnit
from gocua.people.models import Household, Resident


def scope_paths(user: User) -> list[str] | None:
    """Materialised paths the user may see under; None means the whole database."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser and user.unit_id is None:
        return None
    if user.unit_id is None:
        return []
    return [user.unit.path]


def assigned_hamlet_ids(user: User) -> list[int]:
    """Hamlets a field member was given to walk (active memberships only)."""
    from gocua.campaigns.models import Assignment

    return list(
        Assignment.objects.filter(member__user=user, member__active=True)
        .values_list("hamlet_id", flat=True)
        .distinct()
    )


def units_for_user(user: User) -> QuerySet[AdminUnit]:
    """Units whose aggregates the user may see: their unit's subtree."""
    paths = scope_paths(user)
    units = AdminUnit.objects.all()
    if paths is None:
        return units
    if not paths:
        return units.none()
    return units.filter(edition=user.unit.edition, path__startswith=paths[0])


def residents_for_user(user: User) -> QuerySet[Resident]:
    """Residents whose records the user may see. Viewers see none (aggregates only); a field
    member sees only the residents of the hamlets assigned to them."""
    if not user.is_authenticated or user.role == Role.VIEWER and not user.is_superuser:
        return Resident.objects.none()
    if user.role == Role.FIELD_MEMBER:
        return Resident.objects.filter(unit_id__in=assigned_hamlet_ids(user))
    paths = scope_paths(user)
    if paths is None:
        return Resident.objects.all()
    if not paths:
        return Resident.objects.none()
    return Resident.objects.filter(
        unit__edition=user.unit.edition, unit__path__startswith=paths[0]
    )


def households_for_user(user: User) -> QuerySet[Household]:
    if not user.is_authenticated or user.role == Role.VIEWER and not user.is_superuser:
        return Household.objects.none()
    if user.role == Role.FIELD_MEMBER:
        return Household.objects.filter(unit_id__in=assigned_hamlet_ids(user))
    paths = scope_paths(user)
    if paths is None:
        return Household.objects.all()
    if not paths:
        return Household.objects.none()
    return Household.objects.filter(
        unit__edition=user.unit.edition, unit__path__startswith=paths[0]
    )


def unit_visible(user: User, unit: AdminUnit) -> bool:
    paths = scope_paths(user)
    if paths is None:
        return True
    return bool(paths) and unit.edition == user.unit.edition and unit.path.startswith(paths[0])
