"""What the field-work pages share: scope checks (404 outside the user's jurisdiction), the safe
"next" address and the pagers' page number. Writes are audited by the services they call, reads
of personal data by accounts.services.audit_read."""

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import is_manager, units_for_user
from gocua.campaigns.selectors import TEAM_LEVELS
from gocua.geo.models import AdminUnit, Level
from gocua.people.models import Stage

LIST_PAGE = 100
STAGE_LABELS = dict(Stage.choices)

# No list has more pages than this; a larger number is not a page (and its offset would
# overflow the database's integers).
MAX_PAGE = 100_000


def _404_unless(condition: bool) -> None:
    if not condition:
        raise Http404


def _manager_only(request: AuthenticatedHttpRequest) -> None:
    _404_unless(is_manager(request.user))


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _query(request: HttpRequest) -> str:
    """The list's filters without the page number, for the pager's links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    if not (raw.isdigit() and raw.isascii()):
        return 1
    _404_unless(len(raw) <= 6 and int(raw) <= MAX_PAGE)
    return max(1, int(raw))


def _managed_units(user) -> QuerySet[AdminUnit]:
    return units_for_user(user).filter(level__in=(Level.PROVINCE, *TEAM_LEVELS)).order_by("path")
