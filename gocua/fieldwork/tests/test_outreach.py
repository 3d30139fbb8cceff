import datetime as dt

import pytest
from django.utils import timezone

from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.fieldwork.selectors import outreach_for, outreach_totals
from gocua.fieldwork.services import outreach_delete, outreach_record


def record(unit, actor, **kw):
    fields = dict(
        kind="market",
        place="Chợ Phường 1",
        date=timezone.localdate(),
        people_reached=120,
        dossiers_collected=40,
        activations_helped=25,
    )
    fields.update(kw)
    return outreach_record(unit=unit, actor=actor, **fields)


def test_it_records_an_event_and_sums_it(campaign, team_a, tree, bob, dan, charlie):
    event = record(tree.xa_a, bob, team=team_a)
    assert event.team == team_a
    record(
        tree.xa_a,
        bob,
        kind="school",
        place="THPT Tây Ninh",
        people_reached=300,
        dossiers_collected=0,
        activations_helped=80,
    )
    assert outreach_totals(outreach_for(dan)) == {
        "events": 2,
        "people": 420,
        "dossiers": 40,
        "activations": 105,
    }
    assert outreach_for(charlie).count() == 0


def test_it_refuses_bad_counts_kinds_and_places(campaign, tree, bob):
    with pytest.raises(OperationRefused) as exc:
        record(tree.xa_a, bob, dossiers_collected=500)
    assert exc.value.field == "dossiers_collected"
    with pytest.raises(OperationRefused):
        record(tree.xa_a, bob, people_reached=-1)
    with pytest.raises(OperationRefused):
        record(tree.xa_a, bob, kind="concert")
    with pytest.raises(OperationRefused):
        record(tree.xa_a, bob, place=" ")


def test_it_refuses_a_date_outside_the_campaign(campaign, tree, bob):
    with pytest.raises(OperationRefused) as exc:
        record(tree.xa_a, bob, date=campaign.start_date - dt.timedelta(days=1))
    assert exc.value.field == "date" and f"{campaign.start_date:%d/%m/%Y}" in exc.value.message


def test_it_refuses_a_team_of_another_unit(campaign, team_a, tree, charlie, alice):
    with pytest.raises(NotAllowed):
        record(tree.xa_a, charlie)
    with pytest.raises(OperationRefused):
        record(tree.xa_b, alice, team=team_a)


def test_it_deletes_an_event(campaign, tree, bob, charlie):
    event = record(tree.xa_a, bob)
    with pytest.raises(NotAllowed):
        outreach_delete(event=event, actor=charlie)
    outreach_delete(event=event, actor=bob)
    assert outreach_for(bob).count() == 0
