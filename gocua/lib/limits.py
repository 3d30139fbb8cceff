"""How long a typed or imported text may be: one set of limits, the same on the web forms, the
API and the imports (and the model fields' max_length, where the column has one).

Too long is refused with the field and its limit, never cut silently: a volunteer who typed a
long note must learn it did not fit, not find it shortened later."""

from django.utils.translation import gettext as _

NOTE = 2000  # a note about a visit, a household, an outreach event, a training
OUTCOME_NOTE = 500  # the note beside one resident's outcome in a visit
REASON = 300  # why a request was closed, why a home support is asked for
PLACE = 200  # where an outreach event was held; who organised a training
PERSON_NAME = 120  # a person's full name (resident, roster member, trainee)
ADDRESS = 255  # a household's address
HOUSEHOLD_CODE = 32  # Mã hộ, as the population database writes it
UNIT_NAME = 120  # a hamlet's name


def _grouped(count: int) -> str:
    return f"{count:,}".replace(",", ".")  # 2.000, as the product writes numbers everywhere


def limit_help(limit: int) -> str:
    """'Tối đa 2.000 ký tự.', shown under a field."""
    return _("Tối đa %(limit)s ký tự.") % {"limit": _grouped(limit)}


def too_long(limit: int, length: int | None = None) -> str:
    """The refusal of a text longer than `limit`: how long it is (when known) and the limit."""
    if length is None:
        return _("Quá dài: tối đa %(limit)s ký tự.") % {"limit": _grouped(limit)}
    return _("Dài %(length)s ký tự, tối đa %(limit)s ký tự.") % {
        "length": _grouped(length),
        "limit": _grouped(limit),
    }


def over_limit(value: str, limit: int) -> str | None:
    """The refusal of `value` when it is longer than `limit`, else None."""
    return too_long(limit, len(value)) if len(value) > limit else None
