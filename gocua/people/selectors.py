"""Reads of the registry beyond the scoped querysets of gocua.accounts.selectors."""

import datetime as dt
import re

from django.db.models import Count, Q, QuerySet

from gocua.accounts.privacy import sees_full_identity
from gocua.accounts.selectors import AnyUser, is_manager, units_for_user
from gocua.campaigns.models import Campaign
from gocua.geo.models import AdminUnit
from gocua.lib.text import nfc
from gocua.people.funnel import STAGE_GAP, eligibility_cutoff
from gocua.people.models import Resident, ResidentMove, name_search_of
from gocua.people.records import residents_for_user


def moves_for_user(user: AnyUser) -> QuerySet[ResidentMove]:
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


# --- resident search -------------------------------------------------------------------------

# What a masked ID shows in place of hidden digits ('072******891'), and what people type for
# them.
_MASK = frozenset("*xX•")
_DIGITS = frozenset("0123456789")
# Fewer known digits than this say too little to search by.
MIN_ID_DIGITS = 3


def _id_query(text: str) -> str | None:
    """The ID-like query ('079012345678', '072******891', '1234') without spaces and dots, or
    None for a name (names never hold digits)."""
    compact = text.replace(" ", "").replace(".", "")
    if any(ch in _DIGITS for ch in compact) and all(ch in _DIGITS or ch in _MASK for ch in compact):
        return compact
    return None


def _by_id(residents: QuerySet[Resident], query: str, *, partial: bool) -> QuerySet[Resident]:
    """A whole 12-digit ID matches itself. A masked ID matches by its visible digits where
    they stand: '072******891' begins with 072 and ends with 891. Digits alone, fewer than 12,
    are a part of the number ('1234'). Masked and partial IDs only when `partial`: for those
    who read any full ID of their jurisdiction on a resident's page anyway, so a partial
    search tells them nothing new, and nothing outside the scope is searched."""
    if len(query) == 12 and set(query) <= _DIGITS:
        return residents.filter(national_id=query)
    runs = re.split(r"[*xX•]+", query)
    if not partial or sum(map(len, runs)) < MIN_ID_DIGITS:
        return residents.none()
    if len(runs) == 1:
        return residents.filter(national_id__contains=runs[0])
    # Around a mask: the first run is the start of the number, the last its end; a run
    # between two masks is somewhere inside.
    first, *middle, last = runs
    if first:
        residents = residents.filter(national_id__startswith=first)
    if last:
        residents = residents.filter(national_id__endswith=last)
    for run in filter(None, middle):
        residents = residents.filter(national_id__contains=run)
    return residents


def _by_name(residents: QuerySet[Resident], text: str) -> QuerySet[Resident]:
    """The name from its start or from the start of any of its words, ignoring case and
    diacritics: 'nguyen van long', 'văn long' and 'LONG' all find 'Nguyễn Văn Long'."""
    words = name_search_of(text)
    if not words:
        return residents.none()
    return residents.filter(Q(name_search__startswith=words) | Q(name_search__contains=f" {words}"))


def resident_search(
    user: AnyUser, *, query: str = "", unit: AdminUnit | None = None
) -> QuerySet[Resident]:
    """Residents in scope matching a name or a national ID (whole; masked or partial too for
    those who may see full IDs, see `gocua.accounts.privacy.sees_full_identity`). `unit`
    narrows to a visible unit's subtree."""
    residents = residents_for_user(user)
    if unit is not None:
        residents = residents.filter(unit__edition=unit.edition, unit__path__startswith=unit.path)
    text = nfc((query or "").replace("\x00", ""))
    id_query = _id_query(text)
    if id_query is not None:
        residents = _by_id(residents, id_query, partial=sees_full_identity(user))
    elif text:
        residents = _by_name(residents, text)
    return residents.select_related("unit").order_by("full_name", "id")


def search_kind(query: str) -> str:
    """How a resident search was made, for the audit log (never the words typed): by whole
    national ID, by a masked or partial one, by name, or none."""
    text = nfc((query or "").replace("\x00", ""))
    id_query = _id_query(text)
    if id_query is not None:
        whole = len(id_query) == 12 and set(id_query) <= _DIGITS
        return "national_id" if whole else "partial_national_id"
    return "name" if text else "none"


def eligible(residents: QuerySet[Resident], *, on: dt.date, min_age: int) -> QuerySet[Resident]:
    """Alive, still resident, aged `min_age` or more on `on`."""
    return residents.filter(
        deceased=False, moved_out=False, birth_date__lte=eligibility_cutoff(on, min_age)
    )


def hamlet_counts(unit: AdminUnit, *, campaign: Campaign, on: dt.date) -> dict[int, dict[str, int]]:
    """{hamlet id: {"residents", "eligible", "gap"}} for the hamlets under `unit` (one query)."""
    cutoff = eligibility_cutoff(on, campaign.min_age)
    is_eligible = Q(deceased=False, moved_out=False, birth_date__lte=cutoff)
    rows = (
        Resident.objects.filter(unit__edition=unit.edition, unit__path__startswith=unit.path)
        .values("unit_id")
        .annotate(
            residents=Count("id", filter=Q(deceased=False, moved_out=False)),
            eligible=Count("id", filter=is_eligible),
            gap=Count("id", filter=is_eligible & Q(eid_stage__in=list(STAGE_GAP))),
        )
        .order_by()
    )
    return {row.pop("unit_id"): row for row in rows}
