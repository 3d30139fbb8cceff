"""Whose resident records a user may see: the one rule for residents and households.

Built on the jurisdiction (`gocua.accounts.selectors.units_for_user`, a unit subtree): a
province admin or unit manager sees the records of their whole subtree; a field member only
those of the hamlets assigned to them in the current campaign (inside their commune); a viewer
none (aggregates only). Everything that lists, counts, searches or exports residents or
households filters on `record_units_for_user`; a hot path that needs SQL renders the same
queryset (`record_units_sql`) instead of writing the rule again. Objects outside the answer
are treated as not existing (404), never as forbidden.

It lives here, above the campaigns whose assignments it reads and beside the people it scopes.
"""

from django.db import connection
from django.db.models import QuerySet
from django.http import Http404

from gocua.accounts.models import Role
from gocua.accounts.selectors import (
    MANAGER_ROLES,
    effective_role,
    is_unrestricted,
    scope_unit,
    units_for_user,
)
from gocua.campaigns.models import Assignment
from gocua.geo.models import AdminUnit
from gocua.people.models import Household, Resident


def assigned_hamlets(user) -> QuerySet[AdminUnit]:
    """Hamlets a field member was given to walk: active memberships in the current campaign,
    and only hamlets inside the member's own unit (an assignment elsewhere grants nothing)."""
    if scope_unit(user) is None:  # no own unit (a superuser bound to none): nothing to walk
        return AdminUnit.objects.none()
    return units_for_user(user).filter(
        id__in=Assignment.objects.filter(
            member__user=user, member__active=True, member__team__campaign__is_current=True
        ).values("hamlet_id")
    )


def assigned_hamlet_ids(user) -> list[int]:
    return list(assigned_hamlets(user).values_list("id", flat=True))


def record_units_for_user(user) -> QuerySet[AdminUnit]:
    """Units whose resident records (residents, households) the user may see: the jurisdiction
    for province admins and unit managers, the assigned hamlets for a field member, none for a
    viewer."""
    role = effective_role(user)
    if role == Role.FIELD_MEMBER:
        return assigned_hamlets(user)
    if role in MANAGER_ROLES:
        return units_for_user(user)
    return AdminUnit.objects.none()


# record_units_sql's renderings, by what the rule reads of the user. Compiling the queryset
# costs about as much as a single-visit post's whole query, so each is rendered once.
_RENDERED: dict[tuple, tuple[str, tuple] | None] = {}


def record_units_sql(user) -> tuple[str, tuple] | None:
    """`record_units_for_user(user)` rendered as an SQL subquery of unit ids, with its
    parameters (None: no unit), for the hand-written queries of hot paths (the visit sync)."""
    root = scope_unit(user)
    key = (
        connection.vendor,
        effective_role(user),
        is_unrestricted(user),
        root.edition if root else None,
        root.path if root else None,
        user.pk,
    )
    if key not in _RENDERED:
        if len(_RENDERED) >= 10_000:  # a bound, far above the accounts of one installation
            _RENDERED.clear()
        units = record_units_for_user(user).order_by().values("id")
        _RENDERED[key] = None if units.query.is_empty() else units.query.sql_with_params()
    return _RENDERED[key]


def _in_scope(queryset: QuerySet, user) -> QuerySet:
    if is_unrestricted(user):
        return queryset  # every unit: no subquery to run
    return queryset.filter(unit__in=record_units_for_user(user))


def residents_for_user(user) -> QuerySet[Resident]:
    """Residents whose records the user may see. Viewers see none (aggregates only); a field
    member sees only the residents of the hamlets assigned to them."""
    return _in_scope(Resident.objects.all(), user)


def households_for_user(user) -> QuerySet[Household]:
    return _in_scope(Household.objects.all(), user)


def resident_for_user_or_404(user, pk: int) -> Resident:
    resident = residents_for_user(user).select_related("unit", "household").filter(pk=pk).first()
    if resident is None:
        raise Http404("no such resident")
    return resident


def household_for_user_or_404(user, pk: int) -> Household:
    household = households_for_user(user).select_related("unit").filter(pk=pk).first()
    if household is None:
        raise Http404("no such household")
    return household
