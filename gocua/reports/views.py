from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gocua.accounts.selectors import home_unit, unit_for_user_or_404, unit_visible
from gocua.lib.replicas import replica_reads
from gocua.reports.selectors import kpi_rows, min_age_now, rollup_freshness


@login_required
@require_GET
@replica_reads
def kpi_page(
    request: HttpRequest, edition: int | None = None, code: str | None = None
) -> HttpResponse:
    """The KPI table of a unit and its children; the start page shows the user's own unit.
    Units outside the user's jurisdiction answer 404."""
    if code is None:
        unit = home_unit(request.user)
    else:
        unit = unit_for_user_or_404(request.user, edition, code)
    rows = kpi_rows(unit, depth=1, min_age=min_age_now()) if unit else []
    parent = unit.parent if unit and unit.parent_id else None
    return render(
        request,
        "reports/kpi.html",
        {
            "unit": unit,
            "head": rows[0] if rows else None,
            "children": rows[1:],
            "parent": parent if parent and unit_visible(request.user, parent) else None,
            "freshness": rollup_freshness() if unit else None,
        },
    )
