"""The 60 days of history: replayable stage events, claims, follow-ups and home support."""

import datetime as dt
from collections import Counter, defaultdict

from django.utils import timezone

from gocua.fieldwork.models import (
    CLAIM_STAGE,
    FollowUp,
    HomeSupportRequest,
    Outcome,
    Visit,
    VisitOutcome,
)
from gocua.fieldwork.services import STAGE_RANK
from gocua.people.models import Resident, StageEvent


def _start(province) -> dt.datetime:
    start = province.today - dt.timedelta(days=59)
    return dt.datetime.combine(start, dt.time(), timezone.get_current_timezone())


def test_it_replays_stage_events_into_the_current_stage(province, db):
    """The convention: everyone starts at (none, 0); replaying their events in time order
    gives eid_stage, eid_level and stage_at; last_used_at is the time they reached `used`."""
    events = defaultdict(list)
    for row in (
        StageEvent.objects.filter(resident__unit__path__startswith=province.unit.path)
        .order_by("at", "id")
        .values_list(
            "resident_id", "from_stage", "to_stage", "from_level", "to_level", "at", "source"
        )
    ):
        events[row[0]].append(row[1:])
    start = _start(province)
    end = start + dt.timedelta(days=60)
    residents = Resident.objects.filter(unit__path__startswith=province.unit.path)
    moved = 0
    for r in residents.values("id", "eid_stage", "eid_level", "stage_at", "last_used_at"):
        stage, level, stage_at, used_at = "none", 0, None, None
        for from_stage, to_stage, from_level, to_level, at, source in events[r["id"]]:
            assert (from_stage, from_level) == (stage, level)
            assert (stage, level) != (to_stage, to_level)
            assert (source == "import") == (at < start) and at < end
            stage, level, stage_at = to_stage, to_level, at
            if to_stage == "used":
                used_at = at
        assert (stage, level, stage_at, used_at) == (
            r["eid_stage"],
            r["eid_level"],
            r["stage_at"],
            r["last_used_at"],
        )
        moved += any(e[5] == "extract" for e in events[r["id"]])
    assert moved > 0.3 * residents.count()
    assert Counter(e[5] for rows in events.values() for e in rows)["extract"] > 0


def test_it_confirms_claims_only_by_a_later_event(province, db):
    outcomes = VisitOutcome.objects.filter(resident__unit__path__startswith=province.unit.path)
    assert set(outcomes.values_list("outcome", flat=True)) <= set(Outcome.values)
    events = defaultdict(list)
    for resident_id, to_stage, at in StageEvent.objects.filter(
        resident__unit__path__startswith=province.unit.path
    ).values_list("resident_id", "to_stage", "at"):
        events[resident_id].append((at, to_stage))
    confirmed = unconfirmed = 0
    for o in outcomes.select_related("visit"):
        assert o.claimed_stage == CLAIM_STAGE.get(o.outcome, "")
        if not o.claimed_stage:
            assert o.confirmed_at is None
            continue
        later = sorted(
            at
            for at, to in events[o.resident_id]
            if at > o.visit.at and STAGE_RANK[to] >= STAGE_RANK[o.claimed_stage]
        )
        assert o.confirmed_at == (later[0] if later else None)
        confirmed += bool(later)
        unconfirmed += not later
    assert confirmed > unconfirmed > 0  # most claims confirmed; some left to reconcile


def test_it_explains_the_lag_with_visit_outcomes(province, db):
    outcomes = Counter(
        VisitOutcome.objects.filter(
            resident__unit__path__startswith=province.unit.path
        ).values_list("outcome", flat=True)
    )
    for reason in (
        "not_home",
        "no_smartphone",
        "phone_not_owned",
        "needs_home_support",
        "refused",
        "app_error",
        "helped_register",
        "helped_activate",
        "guided_usage",
    ):
        assert outcomes[reason] > 0, reason
    visits = Visit.objects.filter(household__unit__path__startswith=province.unit.path)
    start = _start(province)
    assert not visits.filter(at__lt=start).exists()
    assert not visits.filter(at__gte=start + dt.timedelta(days=59)).exists()  # none today
    # Every visit has an outcome; every not-home visit a follow-up at another time of day.
    assert not visits.filter(outcomes__isnull=True).exists()
    not_home = visits.filter(outcomes__outcome="not_home").distinct()
    assert FollowUp.objects.filter(visit__in=not_home).values("visit").distinct().count() == (
        not_home.count()
    )
    for follow_up in FollowUp.objects.select_related("visit")[:200]:
        assert (
            follow_up.visit.at.date()
            < follow_up.due_date
            <= follow_up.visit.at.date() + dt.timedelta(days=3)
        )
        if follow_up.status == "done":
            assert follow_up.done_at > follow_up.visit.at
    statuses = Counter(FollowUp.objects.values_list("status", flat=True))
    assert statuses["done"] and statuses["open"]
    # Needing home support makes a request; the done ones are the elderly registered at home.
    asked = VisitOutcome.objects.filter(outcome="needs_home_support")
    requests = HomeSupportRequest.objects.filter(
        resident__unit__path__startswith=province.unit.path
    )
    assert requests.count() == asked.count()
    for request in requests.prefetch_related("officers"):
        assert request.visit_id is not None
        if request.status in ("scheduled", "done"):
            assert [o.affiliation for o in request.officers.all()] == ["police", "police"]
        if request.status == "done":
            assert request.resident.eid_stage != "none"
