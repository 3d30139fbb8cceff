import datetime as dt

import pytest
from django.utils import timezone

from gocua.campaigns.tests.factories import at_local
from gocua.fieldwork.models import VisitOutcome
from gocua.fieldwork.selectors import open_claims_for
from gocua.fieldwork.services import claims_confirm
from gocua.fieldwork.tests.helpers import visit_record


@pytest.fixture
def claims(member_vy, tree, household_factory, resident_factory):
    household = household_factory(tree.kp1)
    an = resident_factory(tree.kp1, household=household)
    binh = resident_factory(tree.kp1, household=household, stage="approved")
    visit_record(
        member=member_vy,
        household=household,
        at=at_local(timezone.localdate() - dt.timedelta(days=1), 9),
        outcomes=[(an.pk, "helped_register", ""), (binh.pk, "helped_activate", "")],
    )
    return an, binh


def test_it_lists_unconfirmed_claims_in_scope(claims, bob, charlie, olivia):
    assert open_claims_for(bob).count() == 2
    assert open_claims_for(charlie).count() == 0
    assert open_claims_for(olivia).count() == 0


def test_it_confirms_claims_an_extract_shows_and_keeps_the_others(claims, bob):
    an, binh = claims
    at = timezone.now()
    # The extract shows An registered, Bình still approved (not activated).
    assert claims_confirm(stages={an.pk: ("registered", at), binh.pk: ("approved", at)}) == 1
    assert VisitOutcome.objects.get(resident=an).confirmed_at == at
    assert [c.resident_id for c in open_claims_for(bob)] == [binh.pk]
    # A later stage confirms an earlier claim.
    assert claims_confirm(stages={binh.pk: ("used", at)}) == 1
    assert open_claims_for(bob).count() == 0


def test_it_confirms_nothing_from_an_empty_extract(claims):
    assert claims_confirm(stages={}) == 0
