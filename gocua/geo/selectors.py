"""Reads of the administrative-unit tree."""

from django.db.models import QuerySet

from gocua.geo.models import AdminUnit


class EditionError(ValueError):
    pass


def loaded_editions() -> list[int]:
    return sorted(AdminUnit.objects.order_by().values_list("edition", flat=True).distinct())


def resolve_edition(requested: int | None) -> int:
    """The edition a command works on: the one asked for, or the only one loaded."""
    editions = loaded_editions()
    if requested is not None:
        if requested not in (2023, 2025):
            raise EditionError(f"--edition must be 2023 or 2025, not {requested}")
        if editions and requested not in editions:
            raise EditionError(
                f"the {requested} edition is not loaded (loaded: "
                f"{', '.join(map(str, editions))}); run gocua units load first"
            )
        return requested
    if not editions:
        raise EditionError("no units are loaded: run gocua units load --province CODE first")
    if len(editions) > 1:
        raise EditionError(
            "both the 2023 and 2025 editions are loaded and unit codes repeat across them: "
            "say which with --edition 2023 or --edition 2025"
        )
    return editions[0]


def unit_get(*, edition: int, code: str) -> AdminUnit:
    try:
        return AdminUnit.objects.select_related("parent").get(edition=edition, code=code)
    except AdminUnit.DoesNotExist:
        raise EditionError(f"no unit with code {code} in the {edition} edition") from None


def units_in_subtree(unit: AdminUnit) -> QuerySet[AdminUnit]:
    """The unit and everything under it, by materialised path (one indexed query)."""
    return AdminUnit.objects.filter(edition=unit.edition, path__startswith=unit.path)


def unit_list(*, edition: int, parent: AdminUnit | None = None) -> QuerySet[AdminUnit]:
    units = AdminUnit.objects.filter(edition=edition).select_related("parent")
    if parent is not None:
        return units.filter(parent=parent)
    return units


def top_units(edition: int) -> QuerySet[AdminUnit]:
    return AdminUnit.objects.filter(edition=edition, parent__isnull=True)
