"""The one way to scope data to a user's jurisdiction.

Every page, API route, export, import and worklist asks these functions (and, for resident
records, `gocua.people.records`, built on them) what the user may see. Objects outside the
answer must be treated as not existing (404), never as forbidden: use the `*_or_404` helpers,
and build lists, counts, searches and autocompletes on `units_for_user` (aggregates) or
`gocua.people.records.residents_for_user` / `households_for_user` (records), so that nothing
outside the scope can be counted.

The rule is written once, as two unit querysets: `units_for_user` here (the jurisdiction: the
subtree of the user's unit, from the user's role and unit alone) and
`gocua.people.records.record_units_for_user` (the units whose resident records the user may
see: the jurisdiction for a manager, the assigned hamlets inside it for a field member), which
reads the campaigns' assignments and so sits above them. Everything else filters on them; a hot
path that needs SQL renders the same queryset instead of writing the rule again.

Who sees what:
- an inactive or anonymous user: nothing;
- a superuser without a unit: everything (a superuser with a unit: that unit, as a province admin);
- province admin, unit manager: aggregates and resident records of their unit's subtree;
- field member: aggregates of their commune's subtree, resident records and households only in
  the hamlets assigned to them in the current campaign (and inside their commune);
- viewer: aggregates of their unit's subtree, no resident record at all.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias, TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from gocua.accounts.models import ApiToken, AuditEntry, LiveTokens, Role, User
from gocua.geo.models import AdminUnit
from gocua.geo.selectors import EditionError, resolve_edition

# Roles that may see resident records of a whole subtree (and full IDs on a resident's page).
MANAGER_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.UNIT_MANAGER})

# Whoever asks: an account, the anonymous visitor of a page, or nobody (the command line).
AnyUser: TypeAlias = User | AnonymousUser | None


def _active(user: AnyUser) -> TypeGuard[User]:
    return user is not None and user.is_authenticated and user.is_active


def is_unrestricted(user: AnyUser) -> bool:
    """A superuser bound to no unit: the whole database."""
    return _active(user) and user.is_superuser and user.unit_id is None


def effective_role(user: AnyUser) -> str | None:
    """The role that decides capabilities; a superuser acts as a province admin."""
    if not _active(user):
        return None
    if user.is_superuser:
        return Role.PROVINCE_ADMIN
    if user.unit_id is None or user.role not in Role.values:
        return None
    return user.role


def scope_unit(user: AnyUser) -> AdminUnit | None:
    """The root of the user's jurisdiction (None for no scope or for an unrestricted user)."""
    if not _active(user) or user.unit_id is None:
        return None
    return user.unit


def scope_paths(user: AnyUser) -> list[str] | None:
    """Materialised paths the user may see under; None means the whole database."""
    if is_unrestricted(user):
        return None
    root = scope_unit(user) if effective_role(user) else None
    return [root.path] if root else []


@dataclass(frozen=True)
class Jurisdiction:
    """Where a writer may act: the units (of one edition) under `paths`, or everywhere.

    A plain value (no database handle) so that an import's parsing process can check rows
    with it. `WHOLE_INSTALLATION` is the whole installation: the command line, which has no
    user, and a superuser bound to no unit. Build one for a user with `jurisdiction_for`."""

    edition: int | None
    paths: tuple[str, ...] | None  # None: everywhere

    def covers(self, edition: int, path: str) -> bool:
        if self.paths is None:
            return True
        return edition == self.edition and path.startswith(self.paths)

    @property
    def is_whole(self) -> bool:
        return self.paths is None


WHOLE_INSTALLATION = Jurisdiction(None, None)
NOWHERE = Jurisdiction(None, ())


def jurisdiction_for(user: AnyUser) -> Jurisdiction:
    """The units `user` may write to (import, move, change stages): their unit's subtree for
    province admins and unit managers, everything for an unrestricted superuser, nothing for
    anyone else."""
    if is_unrestricted(user):
        return WHOLE_INSTALLATION
    root = scope_unit(user) if is_manager(user) else None
    if root is None:
        return NOWHERE
    return Jurisdiction(root.edition, (root.path,))


def is_manager(user: AnyUser) -> bool:
    """Province admins and unit managers (and superusers): the 'unit managers and above'."""
    return effective_role(user) in MANAGER_ROLES


def can_see_residents(user: AnyUser) -> bool:
    return effective_role(user) in (*MANAGER_ROLES, Role.FIELD_MEMBER)


def can_search_residents(user: AnyUser) -> bool:
    return is_manager(user)


def can_read_audit(user: AnyUser) -> bool:
    return effective_role(user) == Role.PROVINCE_ADMIN


def units_for_user(user: AnyUser) -> QuerySet[AdminUnit]:
    """Units whose aggregates the user may see: their unit's subtree."""
    if is_unrestricted(user):
        return AdminUnit.objects.all()
    root = scope_unit(user) if effective_role(user) else None
    if root is None:
        return AdminUnit.objects.none()
    return AdminUnit.objects.filter(edition=root.edition, path__startswith=root.path)


def unit_visible(user: AnyUser, unit: AdminUnit) -> bool:
    if is_unrestricted(user):
        return True
    root = scope_unit(user) if effective_role(user) else None
    return root is not None and unit.edition == root.edition and unit.path.startswith(root.path)


def unit_for_user_or_404(user: AnyUser, edition: int | None, code: str) -> AdminUnit:
    """The unit (edition, code) if the user may see it; Http404 otherwise (also when missing).

    `edition=None` means the edition of the user's own unit (the only one their scope has), or
    for a superuser without unit the only edition loaded."""
    if not code or "\x00" in code or len(code) > 24:
        raise Http404("no such unit")
    if edition is None:
        root = scope_unit(user)
        if root is not None:
            edition = root.edition
        elif is_unrestricted(user):
            try:
                edition = resolve_edition(None)
            except EditionError:
                raise Http404("no such unit (say which edition)") from None
        else:
            raise Http404("no such unit")
    unit = units_for_user(user).filter(edition=edition, code=code).select_related("parent").first()
    if unit is None:
        raise Http404("no such unit")
    return unit


def home_unit(user: AnyUser) -> AdminUnit | None:
    """Where the user's pages start: their unit, or the first top unit for an unrestricted one."""
    if is_unrestricted(user):
        return AdminUnit.objects.filter(parent__isnull=True).order_by("-edition", "path").first()
    return scope_unit(user) if effective_role(user) else None


def audit_entries_for_user(user: AnyUser) -> QuerySet[AuditEntry]:
    """Audit entries a province admin may read: those about units of their subtree, and those
    written by users of their subtree."""
    if not can_read_audit(user):
        return AuditEntry.objects.none()
    entries = AuditEntry.objects.select_related("user")
    if is_unrestricted(user):
        return entries
    units = units_for_user(user)
    return entries.filter(Q(unit__in=units) | Q(user__unit__in=units))


def users_for_user(user: AnyUser) -> QuerySet[User]:
    """Accounts bound to units of the user's scope (for managers' lists)."""
    if not is_manager(user):
        return User.objects.none()
    if is_unrestricted(user):
        return User.objects.all()
    return User.objects.filter(unit__in=units_for_user(user))


def live_tokens_by_user(user_ids: Iterable[int]) -> dict[int, LiveTokens]:
    """For each user among `user_ids` with live API tokens (a logged-in phone): how many, and
    when one was last used. Expiry by idleness is left to the token check."""
    rows = (
        ApiToken.objects.filter(
            user_id__in=user_ids, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .values("user_id")
        .annotate(count=Count("id"), last_used=Max("last_used_at"))
    )
    return {r["user_id"]: {"count": r["count"], "last_used": r["last_used"]} for r in rows}
