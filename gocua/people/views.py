"""Resident pages: a search list for unit managers and a resident's own page.

Both are scoped by `gocua.accounts.selectors`; a resident outside the user's jurisdiction is
404. IDs and phones are masked on the list; the resident's own page shows them in full to unit
managers and above, and every opening of it is audited as a `view`.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import can_search_residents, unit_for_user_or_404
from gocua.accounts.services import audit_record, audit_view
from gocua.people.records import resident_for_user_or_404, residents_for_user
from gocua.people.selectors import moves_for_user, resident_search, search_kind

PAGE_SIZE = 50


@login_required
@require_GET
def resident_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Residents of the user's jurisdiction (or of `?unit=CODE` inside it), by name or ID.

    A search is a GET (`?q=`), so Back and a shared link work. A national ID in the URL stays
    out of the logs: the access log writes the path without the query string and every log line
    is scrubbed (gocua.accounts.logs); pages are `no-store` and the referrer stays on the
    site."""
    if not can_search_residents(request.user):
        raise Http404
    data = request.GET
    unit = None
    code = (data.get("unit") or "").strip()
    if code:
        unit = unit_for_user_or_404(request.user, None, code)
    query = (data.get("q") or "").strip()[:120]
    residents = resident_search(request.user, query=query, unit=unit)
    page = Paginator(residents, PAGE_SIZE).get_page(data.get("page"))
    # Who looked whom up: the residents shown, and how the search was made (never the words
    # typed, which may be a national ID).
    audit_view(
        user=request.user,
        object_type="resident_list",
        unit=unit or request.user.unit,
        residents=[r.pk for r in page],
        request=request,
        detail={"search": search_kind(query), "page": page.number},
    )
    return render(
        request,
        "people/resident_list.html",
        {
            "page": page,
            "query": query,
            "unit": unit,
        },
    )


@login_required
@require_GET
def resident_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A resident's own page (full ID and phone for unit managers and above). Audited."""
    resident = resident_for_user_or_404(request.user, pk)
    housemates = []
    if resident.household_id:
        housemates = list(
            residents_for_user(request.user)
            .filter(household_id=resident.household_id)
            .exclude(pk=resident.pk)
            .order_by("birth_date", "id")[:30]
        )
    events = list(resident.stage_events.order_by("-at", "-id")[:20])
    moves = list(
        resident.moves.select_related("from_unit__parent", "to_unit__parent").order_by("-at")[:20]
    )
    audit_record(
        user=request.user,
        action="view",
        object_type="resident",
        object_id=resident.pk,
        unit=resident.unit,
        request=request,
    )
    return render(
        request,
        "people/resident_detail.html",
        {
            "resident": resident,
            "housemates": housemates,
            "events": events,
            "moves": moves,
        },
    )


@login_required
@require_GET
def move_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Residents who moved into or out of the manager's units (by an import that covered both
    communes). Audited as a view of personal data."""
    if not can_search_residents(request.user):
        raise Http404
    page = Paginator(moves_for_user(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    visible = set(
        residents_for_user(request.user)
        .filter(pk__in=[m.resident_id for m in page])
        .values_list("pk", flat=True)
    )
    audit_view(
        user=request.user,
        object_type="resident_moves",
        unit=request.user.unit,
        residents=[m.resident_id for m in page],
        request=request,
        detail={"page": page.number},
    )
    return render(request, "people/move_list.html", {"page": page, "visible": visible})
