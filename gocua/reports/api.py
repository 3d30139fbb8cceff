"""API routes of the reports: the KPI row of a unit and of its children, inside the user's
jurisdiction (mounted at /api/v1/ by gocua.api.api)."""

import datetime as dt
import enum

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from gocua.accounts.selectors import is_unrestricted, unit_for_user_or_404
from gocua.api.common import ERRORS, api_user
from gocua.geo.selectors import EditionError, resolve_edition
from gocua.lib.replicas import replica_reads
from gocua.reports.selectors import kpi_rows, min_age_now, rollup_freshness

router = Router(tags=["units"])


class KpiRowOut(Schema):
    unit_code: str
    unit_name: str
    level: str
    eligible: int
    registered: int
    approved: int
    failed: int
    activated: int
    used: int
    registration_rate: float = Field(description="fraction 0..1 of eligible")
    activation_rate: float
    usage_rate: float


class FreshnessOut(Schema):
    status: str = Field(
        description="current, counting (new residents being added), recounting (a campaign "
        "changed) or first_count (figures counted live until the first count ends)"
    )
    as_of: dt.datetime | None = Field(description="the figures count what was recorded until then")
    residents_waiting: int = Field(description="residents imported, not counted yet")
    visits_waiting: int = Field(description="visits recorded, not counted yet (capped at 10,000)")
    edited_waiting: int = Field(description="residents edited, not recounted yet")


class KpiOut(Schema):
    edition: int
    unit: KpiRowOut
    children: list[KpiRowOut]
    freshness: FreshnessOut


class Edition(enum.IntEnum):
    E2023 = 2023
    E2025 = 2025


class KpiQuery(Schema):
    edition: Edition | None = Field(
        None, description="unit codes repeat across editions; default: the user's own"
    )


@router.get(
    "/units/{code}/kpi",
    response={200: KpiOut, **ERRORS},
    summary="KPI row of a unit and of its children",
    # The operation id it was published with, from when this route lived in gocua/api/units.py.
    operation_id="gocua_api_units_unit_kpi",
)
@replica_reads
def unit_kpi(request: HttpRequest, code: str, query: Query[KpiQuery]):
    """404 for a unit that does not exist or lies outside the user's jurisdiction."""
    user = api_user(request)
    edition = int(query.edition) if query.edition is not None else None
    if edition is None and is_unrestricted(user):
        try:
            edition = resolve_edition(None)
        except EditionError as exc:
            return Status(422, {"detail": str(exc)})
    unit = unit_for_user_or_404(user, edition, code)
    rows = kpi_rows(unit, depth=1, min_age=min_age_now())
    fresh = rollup_freshness()
    freshness = {
        "status": fresh.status,
        "as_of": fresh.as_of,
        "residents_waiting": fresh.waiting,
        "visits_waiting": fresh.visits,
        "edited_waiting": fresh.edited,
    }
    return Status(
        200,
        {"edition": unit.edition, "unit": rows[0], "children": rows[1:], "freshness": freshness},
    )
