"""visits_record: a batch leaves the database as visit_record one visit at a time would, and
two requests racing with the same batch record each visit once."""

import random
import threading
import time
import uuid

import pytest
from django.db import connections, transaction

from gocua.fieldwork.models import FollowUp, HomeSupportRequest, Visit, VisitOutcome
from gocua.fieldwork.services import VisitRefused
from gocua.fieldwork.tests.conftest import yesterday_at
from gocua.fieldwork.tests.helpers import visit_record
from gocua.fieldwork.visits import NewVisit, visits_record
from gocua.people.models import Resident
from gocua.reports import rollups
from gocua.reports.tests.test_rollups import rollup_tables


class Rollback(Exception):
    pass


def run_at_once(*jobs) -> None:
    """Run the jobs in threads started together (each on its own database connection) and
    fail with the first error any of them raised."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def state() -> dict:
    """Everything a visit writes, without the ids the database chose."""
    return {
        "visits": sorted(
            Visit.objects.values_list(
                "id", "household_id", "member_id", "recorded_by_id", "at", "lat", "lon"
            )
        ),
        "outcomes": sorted(
            VisitOutcome.objects.values_list(
                "visit_id", "resident_id", "outcome", "note", "claimed_stage", "confirmed_at"
            )
        ),
        "follow_ups": sorted(
            FollowUp.objects.values_list(
                "household_id",
                "resident_id",
                "visit_id",
                "member_id",
                "due_date",
                "time_of_day",
                "reason",
                "status",
            ),
            key=str,
        ),
        "home_support": sorted(
            HomeSupportRequest.objects.values_list(
                "resident_id", "visit_id", "reason", "status", "requested_at"
            ),
            key=str,
        ),
        "flags": sorted(Resident.objects.values_list("id", "needs_id_card", "no_smartphone")),
        "rollups": rollup_tables(),
    }


def test_it_leaves_the_same_state_as_visit_record_one_by_one(
    member_vy, vy, homes, tree, household_factory
):
    old = FollowUp.objects.create(
        household=homes.h2,
        member=member_vy,
        due_date=yesterday_at().date(),
        time_of_day="evening",
        reason="cũ",
    )
    rollups.rollup_rebuild()  # from now on the rollups are kept current
    h, batch = homes, []

    def add(household, *outcomes, hour=9):
        batch.append(
            NewVisit(
                id=uuid.uuid4(),
                household=household.pk,
                at=yesterday_at(hour),
                outcomes=tuple((r.pk, o, n) for r, o, n in outcomes),
                location=(11.3, 106.1),
            )
        )

    add(h.h1, (h.an, "not_home", ""), (h.binh, "needs_home_support", "đau chân"), hour=8)
    add(h.h2, (h.dung, "helped_activate", ""), hour=9)
    add(h.h1, (h.an, "helped_register", ""), (h.binh, "needs_home_support", ""), hour=17)
    add(h.h2, (h.dung, "not_home", ""), hour=18)
    add(h.h1, (h.cuc, "guided_usage", ""), (h.an, "needs_id_card", ""), hour=19)
    add(h.h2, (h.dung, "no_smartphone", ""), hour=20)
    add(h.h2, (h.dung, "not_home", ""), hour=20)

    with pytest.raises(Rollback), transaction.atomic():
        for v in batch:
            visit_record(
                member=member_vy,
                household=type(h.h1).objects.get(pk=v.household),
                at=v.at,
                outcomes=list(v.outcomes),
                location=v.location,
                client_id=v.id,
                recorded_by=vy,
            )
        one_by_one = state()
        raise Rollback
    old.refresh_from_db()
    assert old.status == "open" and not Visit.objects.exists()

    results = visits_record(actor=vy, member=member_vy, visits=batch)
    assert {r.status for r in results} == {"created"}
    assert state() == one_by_one
    assert one_by_one["rollups"]["unit_days"], "the visits were counted in the rollups"
    rollups.rollup_rebuild()
    assert rollup_tables() == one_by_one["rollups"]


def test_it_rejects_what_visit_record_rejects(member_vy, vy, homes):
    bad = NewVisit(
        id=uuid.uuid4(),
        household=homes.h1.pk,
        at=yesterday_at(),
        outcomes=((homes.an.pk, "nope", ""),),
    )
    with pytest.raises(VisitRefused) as refused:
        visit_record(
            member=member_vy,
            household=homes.h1,
            at=bad.at,
            outcomes=list(bad.outcomes),
            client_id=bad.id,
        )
    [result] = visits_record(actor=vy, member=member_vy, visits=[bad])
    assert (result.status, result.code, result.error) == (
        "rejected",
        refused.value.code,
        refused.value.message,
    )


def test_it_rejects_every_visit_of_an_inactive_member(member_vy, vy, homes):
    member_vy.active = False
    member_vy.save()
    visits = [
        NewVisit(
            id=uuid.uuid4(),
            household=homes.h1.pk,
            at=yesterday_at(),
            outcomes=((homes.an.pk, "refused", ""),),
        )
    ]
    assert [r.code for r in visits_record(actor=vy, member=member_vy, visits=visits)] == [
        "inactive_member"
    ]


def test_it_falls_back_to_one_by_one_when_an_id_was_taken_meanwhile(
    member_vy, vy, homes, monkeypatch
):
    """A concurrent request stores one of the batch's ids between the check and the insert."""
    from gocua.fieldwork import visits as services

    taken = NewVisit(
        id=uuid.uuid4(),
        household=homes.h1.pk,
        at=yesterday_at(),
        outcomes=((homes.an.pk, "refused", ""),),
    )
    fresh = NewVisit(
        id=uuid.uuid4(),
        household=homes.h2.pk,
        at=yesterday_at(),
        outcomes=((homes.dung.pk, "refused", ""),),
    )
    real_check = services._check

    def check_then_race(**kwargs):
        accepted = real_check(**kwargs)
        # The other request goes through the same service: it checks unhindered.
        monkeypatch.setattr(services, "_check", real_check)
        visit_record(
            member=member_vy,
            household=homes.h1,
            at=taken.at,
            outcomes=list(taken.outcomes),
            client_id=taken.id,
        )
        return accepted

    monkeypatch.setattr(services, "_check", check_then_race)
    results = visits_record(actor=vy, member=member_vy, visits=[taken, fresh])
    assert [r.status for r in results] == ["duplicate", "created"]
    assert Visit.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_it_records_a_batch_sent_by_two_requests_at_once_once(
    tree, vy, household_factory, resident_factory, campaign
):
    from gocua.campaigns.models import Member

    member = Member.objects.select_related("team__campaign").get(pk=vy.member.pk)
    household = household_factory(tree.kp1)
    an = resident_factory(tree.kp1, household=household)
    batch = [
        NewVisit(
            id=uuid.uuid4(),
            household=household.pk,
            at=yesterday_at(hour),
            outcomes=((an.pk, "not_home", ""),),
        )
        for hour in (8, 9, 10, 11)
    ]
    answers = []

    def send():
        answers.append([r.status for r in visits_record(actor=vy, member=member, visits=batch)])

    run_at_once(send, send, send)
    assert Visit.objects.count() == 4
    for i in range(4):
        assert sorted(a[i] for a in answers) == ["created", "duplicate", "duplicate"]


@pytest.mark.django_db(transaction=True)
def test_visits_posted_at_once_between_folds_and_an_extract_agree_with_a_rebuild(
    tree, vy, household_factory, resident_factory, campaign, tmp_path, monkeypatch
):
    """Phones post while other posts fold the queue (every commit tries, most find the lock
    taken) and a status extract confirms claims: the rollups end as a rebuild computes them."""
    from gocua.campaigns.models import Member
    from gocua.changes.models import PendingVisit
    from gocua.imports.stages import stages_import
    from gocua.reports.tests.conftest import STAGE_HEADER, write_csv

    monkeypatch.setattr(rollups.visits, "FOLD_EVERY", 0)
    member = Member.objects.select_related("team__campaign").get(pk=vy.member.pk)
    people = {}
    for _ in range(4):
        household = household_factory(tree.kp1)
        people[household.pk] = [resident_factory(tree.kp1, household=household) for _ in range(2)]
    rollups.rollup_rebuild()
    rng = random.Random(11)
    claims = ["helped_register", "helped_activate", "guided_usage", "not_home", "refused"]

    def phone():
        plan = []
        for _ in range(12):
            household = rng.choice(sorted(people))
            plan.append(
                NewVisit(
                    id=uuid.uuid4(),
                    household=household,
                    at=yesterday_at(rng.randint(7, 20), rng.randint(0, 59)),
                    outcomes=tuple((r.pk, rng.choice(claims), "") for r in people[household]),
                )
            )

        def send():
            for v in plan:
                assert visits_record(actor=vy, member=member, visits=[v])[0].status == "created"

        return send

    extract = write_csv(
        tmp_path / "stages.csv",
        STAGE_HEADER,
        [
            [
                r.national_id,
                rng.choice(["registered", "activated", "used"]),
                "",
                yesterday_at(12).isoformat(),
                "",
            ]
            for group in people.values()
            for r in group
        ],
    )

    def import_extract():
        time.sleep(0.05)  # among the posts, not before them
        stages_import(extract, background=False)

    run_at_once(phone(), phone(), phone(), phone(), import_extract)
    assert Visit.objects.count() == 48
    incremental = rollup_tables()
    assert not PendingVisit.objects.exists()
    assert sum(v[7] for v in incremental["unit_days"].values()) == 4 * 48  # visits, 4 levels
    rollups.rollup_rebuild()
    assert rollup_tables() == incremental
