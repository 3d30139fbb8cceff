"""A claim that skips a step ("guided to use" someone the registry shows as approved, not
activated) is recorded as the step it can really be, flagged, counted as that step, and
listed apart; the web form and the field sync apply the same rule."""

import uuid

import pytest
from django.urls import reverse

from gocua.fieldwork.models import VisitOutcome
from gocua.fieldwork.services import claim_for
from gocua.fieldwork.tests.helpers import visit_record, yesterday_at
from gocua.fieldwork.visits import NewVisit, visits_record


@pytest.mark.parametrize(
    ("outcome", "confirmed", "recorded", "skipped_from"),
    [
        ("guided_usage", "approved", "activated", "used"),
        ("guided_usage", "none", "registered", "used"),
        ("helped_activate", "none", "registered", "activated"),
        ("guided_usage", "registered", "activated", "used"),
        ("helped_activate", "registered", "activated", ""),  # approval is not a volunteer step
        ("helped_activate", "approved", "activated", ""),
        ("guided_usage", "activated", "used", ""),
        ("helped_register", "failed", "registered", ""),
        ("not_home", "none", "", ""),
    ],
)
def test_a_claim_is_recorded_as_the_step_it_can_really_be(
    outcome, confirmed, recorded, skipped_from
):
    claim = claim_for(outcome, confirmed)
    assert (claim.stage, claim.skipped_from) == (recorded, skipped_from)


@pytest.fixture
def home(tree, campaign, household_factory, resident_factory):
    household = household_factory(tree.kp1, address="21 Hẻm 5")
    approved = resident_factory(
        tree.kp1, name="Ngô Văn Duyệt", household=household, stage="approved"
    )
    activated = resident_factory(
        tree.kp1, name="Đặng Thị Kích", sex="F", household=household, stage="activated"
    )
    return household, approved, activated


def test_visit_record_flags_the_claim_and_keeps_the_others(member_vy, home):
    household, approved, activated = home
    visit_record(
        member=member_vy,
        household=household,
        at=yesterday_at(9),
        outcomes=[(approved.pk, "guided_usage", ""), (activated.pk, "guided_usage", "")],
    )
    rows = dict(VisitOutcome.objects.values_list("resident_id", "claimed_stage"))
    assert rows == {approved.pk: "activated", activated.pk: "used"}
    assert VisitOutcome.objects.get(resident=approved).skipped_from == "used"
    assert VisitOutcome.objects.get(resident=activated).skipped_from == ""
    approved.refresh_from_db()
    assert approved.eid_stage == "approved"  # a claim never changes the confirmed stage


def test_the_sync_applies_the_same_rule_and_still_rejects_a_bad_visit_alone(member_vy, vy, home):
    household, approved, activated = home
    good, bad = uuid.uuid4(), uuid.uuid4()
    results = visits_record(
        actor=vy,
        member=member_vy,
        visits=[
            NewVisit(
                id=bad,
                household=household.pk,
                at=yesterday_at(8),
                outcomes=((activated.pk, "teleported", ""),),
            ),
            NewVisit(
                id=good,
                household=household.pk,
                at=yesterday_at(9),
                outcomes=((approved.pk, "guided_usage", ""),),
            ),
        ],
    )
    assert [r.status for r in results] == ["rejected", "created"]
    claim = VisitOutcome.objects.get(visit_id=good)
    assert (claim.claimed_stage, claim.skipped_from) == ("activated", "used")
    assert not VisitOutcome.objects.filter(visit_id=bad).exists()


def test_the_rollups_count_it_as_the_real_step(member_vy, home, tree):
    from gocua.reports import rollups
    from gocua.reports.dashboard import claim_gaps

    household, approved, _ = home
    rollups.rollup_rebuild()
    visit_record(
        member=member_vy,
        household=household,
        at=yesterday_at(9),
        outcomes=[(approved.pk, "guided_usage", "")],
    )
    rollups.rollup_fold()  # the worker counts the queued visit
    (own, *_children) = claim_gaps(tree.xa_a)
    assert own["usage"]["claims"] == 0
    assert own["activation"]["claims"] == 1
    rollups.rollup_rebuild()  # a rebuild counts it the same way
    (own, *_children) = claim_gaps(tree.xa_a)
    assert (own["usage"]["claims"], own["activation"]["claims"]) == (0, 1)


def test_the_web_form_says_which_step_was_recorded(client, vy, member_vy, home):
    household, approved, _ = home
    client.force_login(vy)
    url = reverse("fieldwork:visit", args=[household.pk])
    client_id = client.get(url).context["form"].initial["client_id"]
    response = client.post(
        url,
        {
            "client_id": str(client_id),
            "member": member_vy.pk,
            "at": yesterday_at(9).strftime("%Y-%m-%dT%H:%M"),
            "note": "",
            f"outcome_{approved.pk}": "guided_usage",
        },
        follow=True,
    )
    said = " ".join(str(m) for m in response.context["messages"])
    assert "Ngô Văn Duyệt" in said and "vượt bước" in said and "Đã kích hoạt" in said


def test_the_claims_and_reconciliation_pages_list_them_apart(client, bob, member_vy, home, tree):
    household, approved, activated = home
    visit_record(
        member=member_vy,
        household=household,
        at=yesterday_at(9),
        outcomes=[(approved.pk, "guided_usage", ""), (activated.pk, "guided_usage", "")],
    )
    client.force_login(bob)
    page = client.get(reverse("fieldwork:claims"))
    assert [o.resident_id for o in page.context["skipped"]] == [approved.pk]
    assert approved.pk not in [o.resident_id for o in page.context["page"]]
    assert "Kết quả báo vượt bước" in page.content.decode()
    page = client.get(reverse("reports:reconciliation", args=[tree.xa_a.edition, tree.xa_a.code]))
    assert [o.resident_id for o in page.context["skipped"]] == [approved.pk]
    assert page.context["skipped_total"] == 1
    assert "Kết quả hỗ trợ báo vượt bước" in page.content.decode()
