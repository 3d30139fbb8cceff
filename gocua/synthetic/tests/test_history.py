"""The 60 days of history: replayable stage events, claims, follow-ups and home support."""

import datetime as dt
from collections import Counter, defaultdict

from django.db.models import F
from django.utils import timezone

from gocua.fieldwork.models import (
    CLAIM_STAGE,
    FollowUp,
    HomeSupportRequest,
    Outcome,
    Visit,
    VisitOutcome,
)
from gocua.fieldwork.visits import NEXT_TIME_OF_DAY, time_of_day
from gocua.people.funnel import RANK
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
            if at > o.visit.at and RANK[to] >= RANK[o.claimed_stage]
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
        "already_done",
        "needs_id_card",
    ):
        assert outcomes[reason] > 0, reason
    visits = Visit.objects.filter(household__unit__path__startswith=province.unit.path)
    start = _start(province)
    assert not visits.filter(at__lt=start).exists()
    assert not visits.filter(at__gte=start + dt.timedelta(days=59)).exists()  # none today
    assert not visits.filter(outcomes__isnull=True).exists()
    # Members visit only the hamlets assigned to them.
    assert not visits.exclude(member__assignments__hamlet_id=F("household__unit_id")).exists()


def test_it_follows_visit_record_rules_for_follow_ups(province, db):
    """not_home → a follow-up for the next day at another time of day; the household's next
    visit closes it."""
    visits = defaultdict(list)
    for visit in Visit.objects.filter(household__unit__path__startswith=province.unit.path):
        visits[visit.household_id].append(visit.at)
    not_home = Visit.objects.filter(outcomes__outcome="not_home").distinct()
    follow_ups = FollowUp.objects.select_related("visit")
    assert sorted(f.visit_id for f in follow_ups) == sorted(v.pk for v in not_home)
    for f in follow_ups:
        local = timezone.localtime(f.visit.at)
        assert f.due_date == local.date() + dt.timedelta(days=1)
        assert f.time_of_day == NEXT_TIME_OF_DAY[time_of_day(f.visit.at)]
        assert f.member_id == f.visit.member_id and f.reason.startswith("Không có nhà: ")
        later = sorted(at for at in visits[f.household_id] if at > f.visit.at)
        assert (f.status, f.done_at) == (("done", later[0]) if later else ("open", None))
    assert Counter(f.status for f in follow_ups).keys() == {"done", "open"}


def test_it_follows_visit_record_rules_for_home_support_and_flags(province, db):
    """needs_home_support → one open request per resident, scheduled with two police officers;
    no_smartphone / needs_id_card set the flag; deaths and moves are confirmed reports."""
    inside = {"resident__unit__path__startswith": province.unit.path}
    asked = VisitOutcome.objects.filter(outcome="needs_home_support", **inside)
    requests = HomeSupportRequest.objects.filter(**inside).prefetch_related("officers")
    assert sorted(r.resident_id for r in requests) == sorted(
        set(asked.values_list("resident_id", flat=True))
    )
    deadline = dt.date(province.today.year, 12, 31)
    statuses = Counter()
    for request in requests:
        statuses[request.status] += 1
        assert request.visit_id is not None and request.reason
        officers = [o.affiliation for o in request.officers.all()]
        if request.status in ("scheduled", "done"):
            assert officers == ["police", "police"]
            assert request.scheduled_at > request.requested_at
            assert timezone.localtime(request.scheduled_at).date() <= request.scheduled_for
            assert request.scheduled_for <= deadline
        else:
            assert officers == [] and request.scheduled_for is None
        if request.status == "done":
            assert request.resident.eid_stage != "none" and request.closed_at
        if request.status == "cancelled":
            assert request.close_reason and request.closed_at
    assert statuses["done"] and statuses["scheduled"]
    for outcome, flag in (("no_smartphone", "no_smartphone"), ("needs_id_card", "needs_id_card")):
        said = VisitOutcome.objects.filter(outcome=outcome, **inside)
        assert not said.exclude(**{f"resident__{flag}": True}).exists()
    reports = VisitOutcome.objects.filter(outcome__in=("deceased", "moved_away"), **inside)
    assert reports.exists() and not reports.exclude(review="confirmed").exists()
    assert not reports.filter(outcome="deceased").exclude(resident__deceased=True).exists()
    assert not reports.filter(outcome="moved_away").exclude(resident__moved_out=True).exists()
