"""The officer's day: a unit manager's landing page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import is_manager
from gocua.accounts.services import audit_read
from gocua.fieldwork import selectors
from gocua.fieldwork.views._common import _404_unless
from gocua.imports.services import imports_finished_lately


@login_required
@require_GET
def today(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A unit manager's landing page: what is due today in their jurisdiction."""
    _404_unless(is_manager(request.user))
    day = selectors.officer_day(request.user)
    day["imports"] = imports_finished_lately(request.user, limit=selectors.TODAY_ROWS)
    shown = [f.resident_id for f in (*day["due_today"], *day["overdue"]) if f.resident_id]
    shown += [r.resident_id for r in day["home_support"]]
    if shown:
        audit_read(request, "today", shown)
    for f in day["overdue"]:
        f.late_days = (day["today"] - f.due_date).days
    return render(request, "fieldwork/today.html", day)
