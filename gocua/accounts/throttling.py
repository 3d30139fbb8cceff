"""Login throttling: django-axes' database handler with a second limit per client address.

django-axes locks a (user name, address) pair after AXES_FAILURE_LIMIT failures. That alone
never slows one address that tries one password on many user names (a spray), so failures
are also counted per address, against a higher limit (GOCUA_LOGIN_FAILURE_LIMIT_PER_IP): a
commune office behind one NAT address may mistype a few passwords; it does not fail thirty
times in fifteen minutes.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


class LoginThrottle(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The failures axes compares with its one limit: those of the (user name, address)
        pair, or the address's own failures scaled so that reaching the per-address limit
        reaches the pair limit."""
        pair = super().get_failures(request, credentials)
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return pair
        attempts = AccessAttempt.objects.filter(ip_address=address)
        cool_off = get_cool_off(request)
        if cool_off is not None:
            attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
        per_address = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
        limit = get_failure_limit(request, credentials)
        scaled = per_address * limit // max(settings.LOGIN_FAILURE_LIMIT_PER_IP, 1)
        return max(pair, scaled)
