"""Recording a visit to a household: one outcome per resident, saved once however often the form
is sent."""

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gocua.accounts.http import AuthenticatedHttpRequest
from gocua.accounts.selectors import can_see_residents, is_manager
from gocua.accounts.services import audit_read, client_ip
from gocua.campaigns.forms import add_refusal
from gocua.campaigns.models import Member
from gocua.campaigns.selectors import current_campaign_for_user, member_for_user, period_text
from gocua.fieldwork import selectors
from gocua.fieldwork.forms import VisitForm
from gocua.fieldwork.models import VisitOutcome
from gocua.fieldwork.views._common import STAGE_LABELS, _404_unless, _next_url
from gocua.fieldwork.visits import CREATED, DUPLICATE, NewVisit, VisitResult, visits_record
from gocua.people.models import Household

# Back after saving shows the form again, fetched anew (pages are not cached), so a UUID made
# per page view would differ from the saved one and a second Save would record a second
# visit. The form's UUID is therefore kept in the session per household until the visit it
# saved is older than this: within it, the form shown again carries the saved UUID and a
# repeated Save is recognised as the same visit.
RESUBMIT_WINDOW = dt.timedelta(minutes=15)
_CLIENT_IDS = "visit_form_ids"


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Record a visit: one outcome per resident. The hidden UUID makes a double submit
    record once."""
    user = request.user
    _404_unless(can_see_residents(user))
    household = selectors.household_for_visit(user, pk)
    if household is None:
        raise Http404
    campaign = current_campaign_for_user(request.user)
    members, fixed = _visit_members(user, household, campaign)
    residents = selectors.household_residents(household)

    def new_form(data=None) -> VisitForm:
        client_id = None if data is not None else _form_client_id(request, household.pk)
        return VisitForm(
            data, residents=residents, members=members, fixed_member=fixed, client_id=client_id
        )

    form = new_form(request.POST if request.method == "POST" else None)
    already_saved = False
    back = _next_url(request, reverse("fieldwork:worklist"))
    if request.method == "GET":
        audit_read(
            request,
            "household",
            [r.pk for r in residents],
            unit=household.unit,
            detail={"household": household.pk},
        )
    if request.method == "POST" and form.is_valid():
        result = _visit_save(request, household, form)
        if result.status == CREATED:
            messages.success(
                request, _("Đã ghi kết quả thăm hộ %(household)s.") % {"household": household}
            )
            _say_skipped_claims(request, result.id)
            return redirect(back)
        if result.status == DUPLICATE:
            # The same page sent again (a double click, or Back then Save): nothing recorded;
            # say so on the household's page, with a new form in case it is a new visit.
            already_saved = True
            _forget_client_id(request, household.pk)
            form = new_form()
        else:
            add_refusal(form, result.refusal())
    return render(
        request,
        "fieldwork/visit_form.html",
        {
            "household": household,
            "already_saved": already_saved,
            "form": form,
            "visits": selectors.household_visits(household),
            "no_member": not members.exists(),
            "campaign": campaign,
            "period": period_text(campaign) if campaign else "",
            "back": back,
            "today": timezone.localdate(),
        },
    )


def _visit_members(user, household: Household, campaign) -> tuple[QuerySet[Member], Member | None]:
    """Who the visit can be recorded for, and the member it is fixed to: a manager picks among
    the household's team; a field member records their own visits only (404 without a place
    on the roster)."""
    if is_manager(user):
        return selectors.members_for_household(household, campaign), None
    fixed = member_for_user(user, campaign) if campaign else None
    if fixed is None:
        raise Http404
    return Member.objects.filter(pk=fixed.pk), fixed


def _visit_save(
    request: AuthenticatedHttpRequest, household: Household, form: VisitForm
) -> VisitResult:
    """Record the form's visit: a list of one for the service every visit goes through."""
    member = Member.objects.select_related("team__campaign").get(pk=form.cleaned_data["member"].pk)
    visit = NewVisit(
        id=form.cleaned_data["client_id"],
        household=household.pk,
        at=form.cleaned_data["at"],
        outcomes=tuple(form.outcomes()),
        note=form.cleaned_data["note"],
        address=str(household),
    )
    [result] = visits_record(
        member=member, visits=[visit], actor=request.user, address=client_ip(request)
    )
    return result


def _form_client_id(request: AuthenticatedHttpRequest, household_id: int) -> str:
    ids = request.session.get(_CLIENT_IDS, {})
    kept = ids.get(str(household_id))
    if kept and not selectors.visit_saved_before(kept, timezone.now() - RESUBMIT_WINDOW):
        return kept
    ids.pop(str(household_id), None)
    ids[str(household_id)] = str(uuid.uuid4())
    request.session[_CLIENT_IDS] = dict(list(ids.items())[-20:])  # the last few households
    return ids[str(household_id)]


def _forget_client_id(request: AuthenticatedHttpRequest, household_id: int) -> None:
    ids = request.session.get(_CLIENT_IDS, {})
    if ids.pop(str(household_id), None):
        request.session[_CLIENT_IDS] = ids


def _say_skipped_claims(request: AuthenticatedHttpRequest, visit_id: str) -> None:
    """A claim that skipped a step is recorded as the step it can really be: say which."""
    skipped = VisitOutcome.objects.filter(visit_id=visit_id).exclude(skipped_from="")
    for o in skipped.select_related("resident"):
        messages.warning(
            request,
            _(
                "%(name)s: trạng thái chính thức là “%(stage)s”, chưa thể “%(claimed)s”; kết quả "
                "được ghi là “%(recorded)s” (vượt bước) và chờ đối soát."
            )
            % {
                "name": o.resident.full_name,
                "stage": STAGE_LABELS.get(o.resident.eid_stage, o.resident.eid_stage),
                "claimed": STAGE_LABELS.get(o.skipped_from, o.skipped_from),
                "recorded": STAGE_LABELS.get(o.claimed_stage, o.claimed_stage),
            },
        )
