"""The edition option of the data commands (import, report, units, user, generate)."""

from django.core.management.base import CommandError

from gocua.geo.selectors import EditionError, resolve_edition


def edition_or_stop(requested: int | None) -> int:
    """The edition a command works on (the one loaded when not said), or a one-line error."""
    try:
        return resolve_edition(requested)
    except EditionError as exc:
        raise CommandError(str(exc), returncode=2) from None
