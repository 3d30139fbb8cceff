from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from gocua.geo.models import AdminUnit
from gocua.geo.selectors import loaded_editions, top_units
from gocua.reports.selectors import kpi_rows, min_age_now


def kpi_page(request: HttpRequest, edition: int | None = None, code: str | None = None) -> HttpResponse:
    if code is None:
        editions = loaded_editions()
        unit = top_units(editions[-1]).first() if editions else None
    else:
        unit = AdminUnit.objects.filter(edition=edition, code=code).select_related("parent").first()
        if unit is None:
            raise Http404
    rows = kpi_rows(unit, depth=1, min_age=min_age_now()) if unit else []
    return render(request, "reports/kpi.html", {
        "unit": unit, "head": rows[0] if rows else None, "children": rows[1:],
    })
