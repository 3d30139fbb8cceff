"""Reads of the registry beyond the scoped querysets of gocua.accounts.selectors."""

from django.db.models import Q, QuerySet

from gocua.accounts.selectors import is_manager, units_for_user
from gocua.people.models import ResidentMove


def moves_for_user(user) -> QuerySet[ResidentMove]:
    """Moves between communes that left or reached a unit of the manager's jurisdiction,
    newest first: the commune a person left sees where they went, the one they reached sees
    where they came from."""
    if not is_manager(user):
        return ResidentMove.objects.none()
    units = units_for_user(user)
    return (
        ResidentMove.objects.filter(Q(from_unit__in=units) | Q(to_unit__in=units))
        .select_related("resident", "from_unit__parent", "to_unit__parent")
        .order_by("-at", "-id")
    )
