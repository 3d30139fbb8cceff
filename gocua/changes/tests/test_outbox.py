"""The outbox: a change is queued in the writer's transaction and announced after its commit."""

import uuid

import pytest
from django.db import transaction

from gocua.changes import outbox
from gocua.changes.models import CampaignChange, ChangedResident, PendingResidents, PendingVisit


@pytest.fixture
def announced():
    heard: list[str] = []

    def listen(*, kind, **_kw):
        heard.append(kind)

    outbox.changes_recorded.connect(listen, dispatch_uid="test-outbox")
    yield heard
    outbox.changes_recorded.disconnect(dispatch_uid="test-outbox")


@pytest.mark.django_db
def test_each_change_is_a_row_announced_after_the_commit(
    announced, django_capture_on_commit_callbacks
):
    visit = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert outbox.visits_recorded([visit]) == 1
        assert outbox.residents_changed([7, 3, 7]) == 2
        assert outbox.residents_added([10, 11, 12, 20]) == 2
        outbox.campaign_inputs_changed()
    assert not announced  # nobody hears of a change before it is committed
    assert list(PendingVisit.objects.values_list("visit_id", flat=True)) == [visit]
    assert sorted(ChangedResident.objects.values_list("resident_id", flat=True)) == [3, 7]
    assert sorted(PendingResidents.objects.values_list("first_id", "last_id")) == [
        (10, 12),
        (20, 20),
    ]
    assert CampaignChange.objects.count() == 1
    for callback in callbacks:
        callback()
    assert announced == ["visits", "residents", "residents_added"]


@pytest.mark.django_db
def test_nothing_is_queued_or_announced_for_nothing(announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert outbox.visits_recorded([]) == 0
        assert outbox.residents_changed([]) == 0
        assert outbox.residents_added([]) == 0
    assert not callbacks and not announced


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_no_row(announced):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.residents_changed([1])
        outbox.visits_recorded([uuid.uuid4()])
        raise RuntimeError("the write failed")
    assert not ChangedResident.objects.exists() and not PendingVisit.objects.exists()
    assert not announced
