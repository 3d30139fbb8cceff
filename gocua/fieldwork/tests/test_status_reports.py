import datetime as dt

import pytest
from django.utils import timezone

from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.campaigns.tests.factories import at_local
from gocua.fieldwork.models import HomeSupportRequest, VisitOutcome
from gocua.fieldwork.selectors import status_reports_for
from gocua.fieldwork.services import status_report_confirm, status_report_dismiss
from gocua.fieldwork.tests.helpers import visit_record


@pytest.fixture
def reports(member_vy, tree, household_factory, resident_factory):
    household = household_factory(tree.kp1)
    ong = resident_factory(tree.kp1, name="Ông Hai", household=household)
    chi = resident_factory(tree.kp1, name="Chị Ba", household=household, sex="F")
    day = timezone.localdate() - dt.timedelta(days=1)
    visit_record(
        member=member_vy,
        household=household,
        at=at_local(day, 9),
        outcomes=[(ong.pk, "needs_home_support", "")],
    )
    visit_record(
        member=member_vy,
        household=household,
        at=at_local(day, 10),
        outcomes=[(ong.pk, "deceased", ""), (chi.pk, "moved_away", "")],
    )
    return ong, chi


def test_it_lists_reports_to_confirm_for_managers_of_the_unit(
    reports, bob, dan, charlie, vy, olivia
):
    assert {o.resident.full_name for o in status_reports_for(bob)} == {"Ông Hai", "Chị Ba"}
    assert status_reports_for(dan).count() == 2
    assert status_reports_for(charlie).count() == 0
    assert status_reports_for(olivia).count() == 0


def test_it_marks_the_resident_deceased_only_on_confirmation(reports, bob):
    ong, _chi = reports
    report = VisitOutcome.objects.get(resident=ong, outcome="deceased")
    status_report_confirm(outcome=report, actor=bob)
    ong.refresh_from_db()
    assert ong.deceased
    report.refresh_from_db()
    assert report.review == "confirmed" and report.reviewed_by == bob
    # Their pending home-support request is cancelled with the reason.
    request = HomeSupportRequest.objects.get(resident=ong)
    assert request.status == "cancelled"
    with pytest.raises(OperationRefused):
        status_report_confirm(outcome=report, actor=bob)


def test_it_marks_the_resident_moved_out_on_confirmation(reports, bob):
    _ong, chi = reports
    status_report_confirm(outcome=VisitOutcome.objects.get(resident=chi), actor=bob)
    chi.refresh_from_db()
    assert chi.moved_out and not chi.deceased


def test_it_leaves_the_registry_alone_when_dismissed(reports, bob):
    _ong, chi = reports
    report = VisitOutcome.objects.get(resident=chi)
    status_report_dismiss(outcome=report, actor=bob)
    chi.refresh_from_db()
    assert not chi.moved_out
    assert status_reports_for(bob).count() == 1


def test_it_keeps_charlie_from_confirming(reports, charlie):
    ong, _chi = reports
    with pytest.raises(NotAllowed):
        status_report_confirm(
            outcome=VisitOutcome.objects.get(resident=ong, outcome="deceased"), actor=charlie
        )
    ong.refresh_from_db()
    assert not ong.deceased
