"""Rollups: the incremental path and a rebuild from the source tables agree."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from gocua.changes.outbox import residents_added, residents_changed
from gocua.reports import rollups
from gocua.reports.models import FLOW_COLUMNS, STOCK_COLUMNS, MemberDay, StageRegression, UnitDay
from gocua.reports.tests.conftest import CITIZEN_HEADER, STAGE_HEADER, national_id, write_csv

NEXT_STAGE = {
    "none": "registered",
    "registered": "approved",
    "approved": "activated",
    "activated": "used",
    "failed": "registered",
}
OUTCOMES = [
    "helped_register",
    "helped_activate",
    "guided_usage",
    "not_home",
    "refused",
    "already_done",
]


def rollup_tables() -> dict:
    """Every non-zero rollup row, comparable across a rebuild, once the worker has counted
    what the write paths queued (its folds, run here)."""
    rollups.rollup_everything()
    unit_days = {
        (r["unit_id"], r["day"]): tuple(r[c] for c in (*STOCK_COLUMNS, *FLOW_COLUMNS))
        for r in UnitDay.objects.values("unit_id", "day", *STOCK_COLUMNS, *FLOW_COLUMNS)
    }
    member_days = {
        (r["member_id"], r["day"]): (
            r["visits"],
            r["households"],
            r["contacted"],
            r["claims"],
            r["confirmed"],
        )
        for r in MemberDay.objects.values()
    }
    regressions = set(StageRegression.objects.values_list("event_id", "resident_id", "unit_id"))
    return {
        "unit_days": {k: v for k, v in unit_days.items() if any(v)},
        "member_days": {k: v for k, v in member_days.items() if any(v)},
        "regressions": regressions,
    }


def stock(unit, day: dt.date) -> dict:
    """The stock of a unit on a day: the sum of its change rows up to that day."""
    from gocua.reports.selectors import stock_series

    return stock_series([unit.id], day, day)[unit.id][0][1]


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
    return min(moment, timezone.now() - dt.timedelta(seconds=1))


class World:
    """A small commune population that changes day by day through the real write paths."""

    def __init__(self, tree, teams, tmp_path, rng):
        self.tree, self.teams, self.tmp, self.rng = tree, teams, tmp_path, rng
        self.people: dict[str, dict] = {}
        self.files = 0
        self.places = [
            ("25456", "Khu phố 1"),
            ("25456", "Khu phố 2"),
            ("25459", "Khu phố 1"),
            ("25489", ""),
        ]

    def _path(self, name):
        self.files += 1
        return self.tmp / f"{self.files:03d}-{name}.csv"

    def citizens(self, day: dt.date, *, new: int, edits: int, with_stages: bool) -> None:
        from gocua.imports.citizens import citizens_import

        rows = []
        for _ in range(new):
            if self.rng.random() < 0.25:
                # Someone turning 14 around these days: birthdays move the denominator.
                born = day - dt.timedelta(days=365 * 14 + 3 + self.rng.randint(-8, 8))
            else:
                born = dt.date(
                    self.rng.randint(1940, 2008), self.rng.randint(1, 12), self.rng.randint(1, 28)
                )
            sex = self.rng.choice("MF")
            nid = national_id(born, sex)
            unit_code, hamlet = self.rng.choice(self.places)
            self.people[nid] = {
                "born": born,
                "sex": sex,
                "unit": unit_code,
                "hamlet": hamlet,
                "household": f"HH-{unit_code}-{hamlet[-1:] or 0}-{self.rng.randint(1, 6)}",
                "stage": self.rng.choice(["none", "registered", "activated"])
                if with_stages
                else "none",
            }
            rows.append(nid)
        for nid in self.rng.sample(sorted(self.people), min(edits, len(self.people))):
            person = self.people[nid]
            if self.rng.random() < 0.5:
                person["unit"], person["hamlet"] = self.rng.choice(self.places)
            else:
                # A corrected birth date, in the same year: the national ID carries the year.
                born, shift = person["born"], dt.timedelta(days=self.rng.randint(-30, 30))
                person["born"] = born + shift if (born + shift).year == born.year else born - shift
            rows.append(nid)
        path = write_csv(
            self._path("citizens"),
            CITIZEN_HEADER,
            [
                [
                    nid,
                    "Nguyễn Thị Hoa",
                    p["born"].strftime("%d/%m/%Y"),
                    p["sex"],
                    "0912345678",
                    p["unit"],
                    p["hamlet"],
                    p["household"],
                    f"{p['household']} Đường 30/4",
                    p["stage"] if with_stages else "",
                    "",
                ]
                for nid in rows
                for p in [self.people[nid]]
            ],
        )
        summary, _notes = citizens_import(path, edition=2023)
        assert summary.rejected == 0

    def stages(self, day: dt.date, *, n: int, anywhere: bool = False) -> None:
        from gocua.imports.stages import stages_import

        rows = []
        for nid in self.rng.sample(sorted(self.people), min(n, len(self.people))):
            person = self.people[nid]
            roll = self.rng.random()
            if anywhere:
                stage = self.rng.choice(["registered", "approved", "activated", "used"])
            elif roll < 0.3 and person["stage"] in ("activated", "used", "approved"):
                stage = "registered"  # a confirmed stage going backwards
            elif roll < 0.35 and person["stage"] == "registered":
                stage = "failed"
            else:
                stage = NEXT_STAGE.get(person["stage"], person["stage"])
            when = at_local(day, self.rng.randint(7, 20))
            if self.rng.random() < 0.2:
                when -= dt.timedelta(days=self.rng.randint(1, 4))  # an extract dated earlier
            person["stage"] = stage
            rows.append([nid, stage, "", when.isoformat(), ""])
        path = write_csv(self._path("stages"), STAGE_HEADER, rows)
        stages_import(path)

    def visits(self, day: dt.date, *, n: int) -> None:
        from gocua.campaigns.models import Member
        from gocua.fieldwork.tests.helpers import visit_record
        from gocua.people.models import Household

        for _ in range(n):
            member = self.rng.choice(
                list(Member.objects.filter(assignments__isnull=False).select_related("team"))
            )
            hamlets = list(member.assignments.values_list("hamlet_id", flat=True))
            households = list(
                Household.objects.filter(unit_id__in=hamlets, residents__isnull=False).distinct()
            )
            if not households:
                continue
            household = self.rng.choice(households)
            residents = list(household.residents.values_list("id", flat=True))
            chosen = self.rng.sample(residents, self.rng.randint(1, len(residents)))
            visit, created = visit_record(
                member=member,
                household=household,
                at=at_local(day, self.rng.randint(8, 18)),
                outcomes=[(rid, self.rng.choice(OUTCOMES), "") for rid in chosen],
            )
            assert created
            if self.rng.random() < 0.4:
                # Folds come between other writes (a post's commit, a page read), or later.
                rollups.rollup_fold()

    def death(self) -> None:
        from gocua.people.models import Resident

        resident = Resident.objects.order_by("?").first()
        Resident.objects.filter(pk=resident.pk).update(deceased=True)
        residents_changed([resident.pk])


@pytest.mark.django_db
def test_it_agrees_with_a_rebuild_after_random_imports_visits_and_stage_changes(
    tree, teams, tmp_path, monkeypatch
):
    rng = random.Random(6)
    real_today = timezone.localdate()
    day = real_today - dt.timedelta(days=5)
    monkeypatch.setattr(rollups.dates, "today", lambda: day)
    rollups.rollup_rebuild()  # empty: from now on the rollups are kept current
    world = World(tree, teams, tmp_path, rng)
    while True:
        last = day == real_today
        world.citizens(day, new=rng.randint(8, 14), edits=rng.randint(0, 4), with_stages=last)
        world.stages(day, n=rng.randint(5, 15), anywhere=day == real_today - dt.timedelta(days=5))
        world.visits(day, n=rng.randint(3, 8))
        if rng.random() < 0.4:
            world.death()
        if last:
            break
        day += dt.timedelta(days=1)
    incremental = rollup_tables()
    assert incremental["unit_days"] and incremental["member_days"]
    assert incremental["regressions"], "the random extracts include stages going backwards"

    rollups.rollup_rebuild()
    rebuilt = rollup_tables()
    assert incremental["unit_days"] == rebuilt["unit_days"]
    assert incremental["member_days"] == rebuilt["member_days"]
    assert incremental["regressions"] == rebuilt["regressions"]


@pytest.mark.django_db
def test_it_reads_the_same_kpis_from_rollups_as_from_the_residents(tree, teams, tmp_path):
    from gocua.reports.selectors import KPI_FIELDS, kpi_rows

    rng = random.Random(7)
    world = World(tree, teams, tmp_path, rng)
    world.citizens(timezone.localdate(), new=40, edits=0, with_stages=True)
    world.stages(timezone.localdate(), n=20)
    live = kpi_rows(tree.province, depth=3)  # not built yet: the live GROUP BY
    rollups.rollup_rebuild()
    from_rollups = kpi_rows(tree.province, depth=3)
    assert [{k: r[k] for k in KPI_FIELDS} for r in live] == [
        {k: r[k] for k in KPI_FIELDS} for r in from_rollups
    ]
    assert from_rollups[0]["eligible"] > 0


@pytest.mark.django_db
def test_it_rolls_to_a_new_day_with_the_birthdays_of_that_day(tree, campaign, monkeypatch):
    from conftest import make_resident

    day = timezone.localdate() - dt.timedelta(days=3)
    monkeypatch.setattr(rollups.dates, "today", lambda: day)
    turning = make_resident(
        tree.kp1, born=rollups.eligibility_cutoff(day, 14) + dt.timedelta(1), stage="registered"
    )
    make_resident(tree.kp1, born=dt.date(1980, 1, 1))
    rollups.rollup_rebuild()

    def eligible(unit, on):
        return sum(stock(unit, on)[c] for c in STOCK_COLUMNS[:6])

    assert eligible(tree.kp1, day) == 1
    day += dt.timedelta(days=1)  # the birthday: a new day rolls on the first write or read
    assert rollups.rollup_roll() == (day, 0)
    assert eligible(tree.kp1, day) == 2
    assert eligible(tree.province, day) == 2
    assert eligible(tree.kp1, day - dt.timedelta(days=1)) == 1
    assert stock(tree.xa_a, day)["st_registered"] == 1
    # The day's row holds only that day's change: the one who turned 14.
    assert UnitDay.objects.get(unit=tree.kp1, day=day).st_registered == 1
    assert sum(UnitDay.objects.filter(day=day).values_list("st_none", flat=True)) == 0
    day += dt.timedelta(days=2)
    rollups.rollup_roll()
    before = rollup_tables()
    rollups.rollup_rebuild()
    assert rollup_tables() == before
    assert turning.pk


def test_it_makes_someone_eligible_on_the_day_the_cutoff_reaches_their_birth_date():
    # Brute force over leap years: eligible_from agrees with the cutoff rule every day.
    for birth in (
        dt.date(2012, 2, 29),
        dt.date(2012, 2, 28),
        dt.date(2012, 3, 1),
        dt.date(2011, 12, 31),
        dt.date(2000, 2, 29),
    ):
        start = rollups.eligible_from(birth, 14)
        assert rollups.eligibility_cutoff(start, 14) >= birth
        assert rollups.eligibility_cutoff(start - dt.timedelta(days=1), 14) < birth
    assert rollups.eligible_from(dt.date(2012, 2, 29), 14) == dt.date(2026, 3, 1)


@pytest.mark.django_db
def test_it_recounts_residents_edited_outside_the_hooks_on_the_nightly_roll(tree, campaign):
    from conftest import make_resident
    from gocua.people.models import Resident

    resident = make_resident(tree.kp1, stage="activated")
    make_resident(tree.kp1)
    rollups.rollup_rebuild()
    # A write path that forgot to record its change (a bulk update, the admin...).
    Resident.objects.filter(pk=resident.pk).update(deceased=True, updated_at=timezone.now())
    assert stock(tree.kp1, timezone.localdate())["st_activated"] == 1
    assert rollups.rollup_roll() == (timezone.localdate(), 1)
    row = stock(tree.kp1, timezone.localdate())
    assert (row["st_activated"], row["st_none"]) == (0, 1)
    assert rollups.rollup_roll() == (timezone.localdate(), 0)


@pytest.mark.django_db
def test_it_rebuilds_one_edition_and_keeps_the_others_rows(tree, campaign):
    from conftest import make_resident
    from gocua.geo.models import AdminUnit

    make_resident(tree.kp1, stage="registered")
    rollups.rollup_rebuild()
    before = rollup_tables()
    tay_ninh_2025 = AdminUnit.objects.create(
        edition=2025,
        code="80",
        name="Tỉnh Tây Ninh",
        level="province",
        path="80/",
        depth=0,
        province_code="80",
        name_key="tinh tay ninh",
    )
    make_resident(tay_ninh_2025, stage="activated")
    make_resident(tay_ninh_2025)
    counts = rollups.rollup_rebuild(edition=2025)
    assert counts["residents"] == 2  # the edition's residents only
    after = rollup_tables()
    assert {k: v for k, v in after["unit_days"].items() if k[0] != tay_ninh_2025.pk} == (
        before["unit_days"]
    )
    today = timezone.localdate()
    row = stock(tay_ninh_2025, today)
    assert (row["st_activated"], row["st_none"]) == (1, 1)
    rollups.rollup_rebuild()
    assert rollup_tables() == after


def test_a_campaign_change_queues_a_rebuild_only_when_the_rows_cannot_answer(
    db, tree, django_capture_on_commit_callbacks
):
    """A later start date leaves the rows as they are (they start earlier than needed); an
    earlier one, or another minimum age, marks them stale (reads say "recounting, figures as
    of") and queues their rebuild, which the worker runs."""
    import datetime as dt

    from conftest import make_resident
    from gocua.campaigns.models import Campaign
    from gocua.campaigns.services import campaign_update
    from gocua.reports.models import RollupState
    from gocua.reports.rollups import LEAD_DAYS, rollup_maintain, rollup_rebuild

    campaign = Campaign.objects.create(
        name="Đợt 1",
        province=tree.province,
        start_date=dt.date(2026, 10, 1),
        deadline=dt.date(2026, 12, 31),
        is_current=True,
    )
    make_resident(tree.kp1)
    rollup_rebuild()
    built = RollupState.objects.get()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        campaign_update(campaign=campaign, start_date=dt.date(2026, 10, 15))
        rollup_maintain()  # the worker's round finds the change
    assert not queued and RollupState.objects.get() == built
    assert RollupState.objects.get().stale_since is None

    campaign_update(campaign=campaign, start_date=dt.date(2026, 9, 1))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        rollup_maintain()
    assert RollupState.objects.get().stale_since is not None  # stale, still answering
    for callback in queued:
        callback()  # the worker runs the rebuild
    state = RollupState.objects.get()
    assert state.stale_since is None
    assert state.first_day == dt.date(2026, 9, 1) - dt.timedelta(days=LEAD_DAYS)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        campaign_update(campaign=campaign, min_age=16)
        rollup_maintain()
    assert queued and RollupState.objects.get().min_age == 16


def test_a_confirmed_death_leaves_the_denominator_at_once(db, tree, vy, bob):
    from django.utils import timezone

    from conftest import make_resident
    from gocua.fieldwork.models import VisitOutcome
    from gocua.fieldwork.services import status_report_confirm
    from gocua.fieldwork.tests.helpers import visit_record
    from gocua.people.models import Household
    from gocua.reports.rollups import rollup_fold, rollup_rebuild
    from gocua.reports.selectors import kpi_rows

    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    grandpa = make_resident(tree.kp1, household=house, born=timezone.localdate().replace(year=1930))
    make_resident(tree.kp1, household=house)
    rollup_rebuild()
    assert kpi_rows(tree.xa_a, depth=0)[0]["eligible"] == 2
    visit_record(
        member=vy.member,
        household=house,
        at=timezone.now(),
        outcomes=[(grandpa.pk, "deceased", "")],
        recorded_by=vy,
    )
    status_report_confirm(outcome=VisitOutcome.objects.get(resident=grandpa), actor=bob)
    rollup_fold()  # what the worker runs after the post's commit
    assert kpi_rows(tree.xa_a, depth=0)[0]["eligible"] == 1


# --- the visit queue -------------------------------------------------------------------------


def _claim_visit(teams, tree, resident, outcome="helped_activate"):
    from gocua.fieldwork.tests.helpers import visit_record

    visit, created = visit_record(
        member=teams.an,
        household=resident.household,
        at=at_local(timezone.localdate(), 9),
        outcomes=[(resident.pk, outcome, "")],
    )
    assert created
    return visit


def _flows(unit) -> dict:
    row = UnitDay.objects.filter(unit=unit, day=timezone.localdate()).values(*FLOW_COLUMNS)
    return row.first() or dict.fromkeys(FLOW_COLUMNS, 0)


@pytest.mark.django_db
def test_a_recorded_visit_waits_in_the_queue_and_the_worker_folds_it_reads_never_do(tree, teams):
    from conftest import make_resident
    from gocua.changes.models import PendingVisit
    from gocua.people.models import Household
    from gocua.reports.selectors import kpi_rows, rollup_freshness

    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    an = make_resident(tree.kp1, household=house, stage="registered")
    rollups.rollup_rebuild()
    visit = _claim_visit(teams, tree, an)
    assert list(PendingVisit.objects.values_list("visit_id", flat=True)) == [visit.pk]
    assert _flows(tree.kp1)["visits"] == 0  # the post itself wrote no rollup row
    kpi_rows(tree.xa_a, depth=0)  # a page read: reads never write
    assert rollup_freshness().visits == 1
    assert list(PendingVisit.objects.values_list("visit_id", flat=True)) == [visit.pk]
    rollups.rollup_maintain()  # the worker's round
    assert not PendingVisit.objects.exists()
    for unit in (tree.kp1, tree.xa_a, tree.province):
        flows = _flows(unit)
        assert (flows["visits"], flows["households"], flows["claims_activated"]) == (1, 1, 1)


@pytest.mark.django_db
def test_an_extract_before_the_fold_confirms_a_queued_claim_once(tree, teams, tmp_path):
    from conftest import make_resident
    from gocua.imports.stages import stages_import
    from gocua.people.models import Household

    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    an = make_resident(tree.kp1, household=house, stage="registered")
    rollups.rollup_rebuild()
    _claim_visit(teams, tree, an)
    extract = write_csv(
        tmp_path / "stages.csv",
        STAGE_HEADER,
        [[an.national_id, "activated", "", timezone.now().isoformat(), ""]],
    )
    stages_import(extract, background=False)  # the claim's stage changes while it is queued
    assert rollups.rollup_fold() == 1
    flows = _flows(tree.kp1)
    assert (flows["claims_activated"], flows["confirmed_activated"]) == (1, 1)
    before = rollup_tables()
    rollups.rollup_rebuild()
    assert rollup_tables() == before


@pytest.mark.django_db
def test_a_post_folds_the_queue_after_its_commit_at_most_every_fold_every_seconds(
    tree, teams, monkeypatch, django_capture_on_commit_callbacks
):
    from conftest import make_resident
    from gocua.changes.models import PendingVisit
    from gocua.people.models import Household

    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    an = make_resident(tree.kp1, household=house)
    rollups.rollup_rebuild()
    clock = iter([100.0, 100.2, 100.6])
    monkeypatch.setattr(rollups.visits.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(rollups.visits, "_next_fold", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        _claim_visit(teams, tree, an, "not_home")
    assert not PendingVisit.objects.exists() and _flows(tree.kp1)["visits"] == 1
    with django_capture_on_commit_callbacks(execute=True):  # 0.2 s later: stays queued
        _claim_visit(teams, tree, an, "not_home")
    assert PendingVisit.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):  # 0.6 s: both folded
        _claim_visit(teams, tree, an, "not_home")
    assert not PendingVisit.objects.exists()
    flows = _flows(tree.kp1)
    assert (flows["visits"], flows["households"], flows["contacted"]) == (3, 1, 0)


@pytest.mark.django_db
def test_a_rebuild_empties_the_queue_of_its_edition_only(tree, teams):
    from conftest import make_resident
    from gocua.changes.models import PendingVisit
    from gocua.fieldwork.models import Visit
    from gocua.people.models import Household

    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    an = make_resident(tree.kp1, household=house)
    rollups.rollup_rebuild()
    visit = _claim_visit(teams, tree, an, "refused")
    rollups.rollup_rebuild(edition=2025)  # another edition's rows: this visit stays queued
    assert list(PendingVisit.objects.values_list("visit_id", flat=True)) == [visit.pk]
    rollups.rollup_rebuild(edition=2023)
    assert not PendingVisit.objects.exists()
    assert _flows(tree.kp1)["visits"] == Visit.objects.count() == 1
    # Not built (an upgrade that dropped them): visits still queue, the next build counts them.
    from gocua.reports.models import RollupState

    RollupState.objects.filter(pk=1).delete()
    _claim_visit(teams, tree, an, "refused")
    assert PendingVisit.objects.count() == 1 and rollups.rollup_fold() == 0
    rollups.rollup_rebuild()
    assert not PendingVisit.objects.exists() and _flows(tree.kp1)["visits"] == 2


@pytest.mark.django_db
def test_the_sweep_moves_a_claim_folded_for_a_resident_the_rollups_did_not_know(tree, teams):
    from conftest import make_resident
    from gocua.people.models import Household

    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    rollups.rollup_rebuild()
    # Written by a path that forgot to record its change (a script, the admin...).
    an = make_resident(tree.kp1, household=house, stage="activated")
    _claim_visit(teams, tree, an)
    rollups.rollup_fold()
    assert _flows(tree.kp1)["confirmed_activated"] == 0  # judged as "none": unknown yet
    rollups.rollup_roll()
    flows = _flows(tree.kp1)
    assert (flows["claims_activated"], flows["confirmed_activated"]) == (1, 1)
    before = rollup_tables()
    rollups.rollup_rebuild()
    assert rollup_tables() == before


@pytest.mark.django_db
def test_an_import_s_new_residents_wait_in_a_queue_and_are_counted_as_a_rebuild_counts_them(
    tree, teams, tmp_path, monkeypatch, client, alice
):
    """An import queues its new residents; meanwhile a page says how many wait, a status
    extract and claims reach some of them and one dies; the catch-up then counts the rest,
    and the rollups are what a rebuild makes."""
    from gocua.changes.models import PendingResidents
    from gocua.reports.selectors import rollup_freshness

    catch_up = rollups.rollup_catch_up
    monkeypatch.setattr(rollups, "rollup_catch_up", lambda: 0)  # no worker
    rollups.rollup_rebuild()
    world = World(tree, teams, tmp_path, random.Random(11))
    today = timezone.localdate()
    world.citizens(today, new=40, edits=0, with_stages=False)
    world.citizens(today, new=20, edits=0, with_stages=True)  # events: counted one by one
    assert PendingResidents.objects.exists()
    freshness = rollup_freshness()
    assert (freshness.status, freshness.waiting) == ("counting", 60)
    client.force_login(alice)
    page = client.get("/dashboard/").content.decode()
    assert "Đang cộng 60 cư dân vừa nhập vào số liệu" in page
    assert not UnitDay.objects.exists()  # nobody counted yet
    world.stages(today, n=10)  # some reached before the catch-up: counted then
    world.visits(today, n=6)
    world.death()
    monkeypatch.setattr(rollups, "rollup_catch_up", catch_up)
    assert catch_up() == 60
    assert not PendingResidents.objects.exists()
    assert rollup_freshness().status == "current"
    assert "Đang cộng" not in client.get("/dashboard/").content.decode()
    counted = rollup_tables()
    assert sum(r[0] for r in counted["unit_days"].values()) > 0
    rollups.rollup_rebuild()
    assert rollup_tables() == counted


@pytest.mark.django_db
def test_a_rebuild_counts_the_queued_new_residents_and_empties_the_queue(
    tree, teams, tmp_path, monkeypatch
):
    from gocua.changes.models import PendingResidents

    monkeypatch.setattr(rollups, "rollup_catch_up", lambda: 0)
    rollups.rollup_rebuild()
    World(tree, teams, tmp_path, random.Random(12)).citizens(
        timezone.localdate(), new=25, edits=0, with_stages=False
    )
    assert PendingResidents.objects.exists()
    assert rollups.rollup_rebuild()["residents"] == 25
    assert not PendingResidents.objects.exists()


@pytest.mark.django_db
def test_a_claim_folded_before_its_resident_was_counted_is_confirmed_by_the_catch_up(
    tree, teams, monkeypatch
):
    from conftest import make_resident
    from gocua.people.models import Household

    monkeypatch.setattr(rollups, "rollup_catch_up", lambda: 0)
    rollups.rollup_rebuild()
    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    an = make_resident(tree.kp1, household=house, stage="activated")  # no stage event
    residents_added([an.pk])
    _claim_visit(teams, tree, an)
    rollups.rollup_fold()  # judged against "none": the rollups do not know her yet
    assert _flows(tree.kp1)["confirmed_activated"] == 0
    monkeypatch.undo()
    assert rollups.rollup_catch_up() == 1
    assert _flows(tree.kp1)["confirmed_activated"] == 1
    before = rollup_tables()
    rollups.rollup_rebuild()
    assert rollup_tables() == before


@pytest.mark.django_db
def test_reads_never_write_the_rollups(tree, teams, monkeypatch, client, alice, token_for):
    """A page read neither rolls to a new day nor folds: it says how current the figures are
    (the worker's last fold, what still waits), and the worker's round does the writing."""
    from conftest import make_resident
    from gocua.people.models import Household
    from gocua.reports.models import RollupState
    from gocua.reports.selectors import kpi_rows, rollup_freshness

    house = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    an = make_resident(tree.kp1, household=house)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    monkeypatch.setattr(rollups.dates, "today", lambda: yesterday)
    rollups.rollup_rebuild()
    built = RollupState.objects.get()
    monkeypatch.undo()  # a new day has begun
    _claim_visit(teams, tree, an, "not_home")
    residents_changed([an.pk])
    rows = list(UnitDay.objects.values_list("unit_id", "day", "visits"))
    kpi_rows(tree.xa_a, depth=1)
    freshness = rollup_freshness()
    assert list(UnitDay.objects.values_list("unit_id", "day", "visits")) == rows
    state = RollupState.objects.get()
    assert (state.day, state.folded_at) == (yesterday, built.folded_at)
    assert (freshness.status, freshness.as_of) == ("current", built.folded_at)
    assert (freshness.visits, freshness.edited) == (1, 1)
    client.force_login(alice)
    assert "2 thay đổi vừa ghi nhận đang chờ" in client.get("/dashboard/").content.decode()
    api = client.get("/api/v1/units/72/kpi", HTTP_AUTHORIZATION=f"Bearer {token_for(alice)}")
    assert api.json()["freshness"] | {"as_of": None} == {
        "status": "current",
        "as_of": None,
        "residents_waiting": 0,
        "visits_waiting": 1,
        "edited_waiting": 1,
    }
    assert list(UnitDay.objects.values_list("unit_id", "day", "visits")) == rows
    assert RollupState.objects.get().day == yesterday
    assert rollups.rollup_maintain() == "folded"  # the worker's round
    state = RollupState.objects.get()
    assert state.day == timezone.localdate() and state.folded_at > built.folded_at
    freshness = rollup_freshness()
    assert (freshness.as_of, freshness.visits, freshness.edited) == (state.folded_at, 0, 0)
    assert _flows(tree.kp1)["visits"] == 1


@pytest.mark.django_db
def test_an_import_from_the_command_line_ends_counted(tree, teams, tmp_path):
    """No worker may run beside `gocua import`: the command counts what the import queued."""
    from django.core.management import call_command

    from gocua.changes.models import PendingResidents

    rollups.rollup_rebuild()
    born = dt.date(1990, 1, 2)
    path = write_csv(
        tmp_path / "citizens.csv",
        CITIZEN_HEADER,
        [
            [
                national_id(born, "F"),
                "Nguyễn Thị Hoa",
                "02/01/1990",
                "F",
                "0912345678",
                "25456",
                "Khu phố 1",
                "HH-1",
                "1 Đường 30/4",
                "",
                "",
            ]
        ],
    )
    call_command("import", "citizens", path, "--edition", "2023", "--json")
    assert not PendingResidents.objects.exists()
    assert stock(tree.kp1, timezone.localdate())["st_none"] == 1
