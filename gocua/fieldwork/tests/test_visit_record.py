import datetime as dt
import threading
import uuid

import pytest
from django.db import connections
from django.utils import timezone

from gocua.campaigns.tests.factories import at_local
from gocua.fieldwork.models import FollowUp, HomeSupportRequest, Visit, VisitOutcome
from gocua.fieldwork.services import VisitRefused
from gocua.fieldwork.tests.helpers import visit_record


@pytest.fixture
def home(tree, household_factory, resident_factory):
    household = household_factory(tree.kp1, address="12 Hẻm 3")
    an = resident_factory(tree.kp1, name="Nguyễn Văn An", household=household)
    binh = resident_factory(
        tree.kp1, name="Trần Thị Bình", sex="F", household=household, stage="registered"
    )
    return household, an, binh


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def morning():
    """Yesterday 9:00: in the campaign and in the past whatever the hour the tests run."""
    return at_local(yesterday(), 9)


def test_it_records_a_visit_with_one_outcome_per_resident(member_vy, home, vy):
    household, an, binh = home
    visit, created = visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "refused", "không muốn"), (binh.pk, "app_error", "")],
        location={"lat": 11.31, "lon": 106.1},
        recorded_by=vy,
        note="Nhà có chó",
    )
    assert created
    assert visit.lat == 11.31 and visit.note == "Nhà có chó" and visit.recorded_by == vy
    assert sorted(visit.outcomes.values_list("outcome", flat=True)) == ["app_error", "refused"]


def test_it_records_the_same_client_uuid_once(member_vy, home):
    household, an, _binh = home
    client_id = uuid.uuid4()
    kwargs = dict(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "not_home", "")],
        client_id=client_id,
    )
    first, created_first = visit_record(**kwargs)
    again, created_again = visit_record(**kwargs)
    assert created_first and not created_again
    assert first.pk == again.pk == client_id
    assert Visit.objects.count() == 1
    assert VisitOutcome.objects.count() == 1
    assert FollowUp.objects.count() == 1


def test_it_survives_the_race_between_check_and_insert(member_vy, home, monkeypatch):
    """The second request passes the existence check before the first commits: the unique
    primary key refuses it and the stored visit is returned."""
    household, an, _binh = home
    client_id = uuid.uuid4()
    kwargs = dict(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "helped_install", "")],
        client_id=client_id,
    )
    visit_record(**kwargs)
    from gocua.fieldwork import visits

    real_stored = visits._stored_visits
    calls = {"n": 0}

    def stored_once_blind(ids):
        calls["n"] += 1
        return {} if calls["n"] == 1 else real_stored(ids)

    monkeypatch.setattr(visits, "_stored_visits", stored_once_blind)
    visit, created = visit_record(**kwargs)
    assert not created and visit.pk == client_id
    monkeypatch.undo()
    assert VisitOutcome.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_it_records_a_double_submit_from_two_threads_once(
    tree, vy, household_factory, resident_factory
):
    from gocua.campaigns.models import Campaign, Member

    campaign = Campaign.objects.get(is_current=True)
    campaign.start_date = timezone.localdate() - dt.timedelta(days=5)
    campaign.deadline = timezone.localdate() + dt.timedelta(days=30)
    campaign.save()
    member = Member.objects.select_related("team__campaign").get(pk=vy.member.pk)
    household = household_factory(tree.kp1)
    an = resident_factory(tree.kp1, household=household)
    client_id = uuid.uuid4()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def submit():
        try:
            barrier.wait()
            results.append(
                visit_record(
                    member=member,
                    household=household,
                    at=morning(),
                    outcomes=[(an.pk, "not_home", "")],
                    client_id=client_id,
                )[1]
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == [False, False, False, True]
    assert VisitOutcome.objects.count() == 1
    assert FollowUp.objects.count() == 1


def test_it_refuses_a_uuid_reused_for_another_household(
    member_vy, home, household_factory, resident_factory, tree
):
    household, an, _binh = home
    other = household_factory(tree.kp1)
    cuong = resident_factory(tree.kp1, household=other)
    client_id = uuid.uuid4()
    visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "refused", "")],
        client_id=client_id,
    )
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=other,
            at=morning(),
            outcomes=[(cuong.pk, "refused", "")],
            client_id=client_id,
        )
    assert exc.value.code == "id_conflict"


def test_it_refuses_a_household_outside_the_members_hamlets(
    member_vy, tree, household_factory, resident_factory
):
    household = household_factory(tree.kp2, address="5 Lê Lợi")
    an = resident_factory(tree.kp2, household=household)
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy, household=household, at=morning(), outcomes=[(an.pk, "refused", "")]
        )
    assert exc.value.code == "outside_assignment"
    assert "5 Lê Lợi" in exc.value.message
    assert not Visit.objects.exists()


def test_it_refuses_a_resident_of_another_household(
    member_vy, home, tree, household_factory, resident_factory
):
    household, an, _binh = home
    stranger = resident_factory(tree.kp1, household=household_factory(tree.kp1))
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=household,
            at=morning(),
            outcomes=[(an.pk, "refused", ""), (stranger.pk, "refused", "")],
        )
    assert exc.value.code == "not_in_household"
    assert not Visit.objects.exists()


def test_it_refuses_unknown_outcomes_and_empty_visits(member_vy, home):
    household, an, _binh = home
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=household,
            at=morning(),
            outcomes=[(an.pk, "abducted_by_aliens", "")],
        )
    assert exc.value.code == "unknown_outcome"
    with pytest.raises(VisitRefused) as exc:
        visit_record(member=member_vy, household=household, at=morning(), outcomes=[])
    assert exc.value.code == "no_outcome"
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=household,
            at=morning(),
            outcomes=[(an.pk, "refused", ""), (an.pk, "not_home", "")],
        )
    assert exc.value.code == "duplicate_resident"


def test_it_refuses_dates_outside_the_campaign_showing_the_window(member_vy, home, campaign):
    household, an, _binh = home
    before = campaign.start_date - dt.timedelta(days=1)
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=household,
            at=at_local(before),
            outcomes=[(an.pk, "refused", "")],
        )
    assert exc.value.code == "outside_window"
    assert f"{campaign.start_date:%d/%m/%Y}" in exc.value.message
    assert f"{campaign.deadline:%d/%m/%Y}" in exc.value.message
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=household,
            at=timezone.now() + dt.timedelta(days=1),
            outcomes=[(an.pk, "refused", "")],
        )
    assert exc.value.code == "in_future"


def test_it_refuses_an_inactive_member(member_vy, home):
    household, an, _binh = home
    member_vy.active = False
    member_vy.save()
    with pytest.raises(VisitRefused):
        visit_record(
            member=member_vy, household=household, at=morning(), outcomes=[(an.pk, "refused", "")]
        )


def test_it_schedules_a_follow_up_at_another_time_of_day_when_nobody_is_home(member_vy, home):
    household, an, binh = home
    visit, _ = visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "not_home", ""), (binh.pk, "not_home", "")],
    )
    follow_up = FollowUp.objects.get()
    assert follow_up.household == household and follow_up.member == member_vy
    assert follow_up.visit == visit
    assert 1 <= (follow_up.due_date - yesterday()).days <= 3
    assert follow_up.time_of_day == "evening"
    assert follow_up.status == "open"
    # The next visit closes it (and, nobody home again, opens a new one in the morning).
    visit_record(
        member=member_vy,
        household=household,
        at=at_local(yesterday(), 19),
        outcomes=[(an.pk, "helped_install", "")],
    )
    follow_up.refresh_from_db()
    assert follow_up.status == "done"


def test_it_requests_home_support_once(member_vy, home):
    household, an, _binh = home
    visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "needs_home_support", "nằm liệt giường")],
    )
    visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "needs_home_support", "")],
    )
    request = HomeSupportRequest.objects.get()
    assert request.resident == an and request.status == "requested"
    assert request.reason == "nằm liệt giường"


def test_it_flags_residents_who_need_an_id_card_or_have_no_smartphone(member_vy, home):
    household, an, binh = home
    visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "needs_id_card", ""), (binh.pk, "no_smartphone", "")],
    )
    an.refresh_from_db()
    binh.refresh_from_db()
    assert an.needs_id_card and not an.no_smartphone
    assert binh.no_smartphone and not binh.needs_id_card


def test_it_does_not_change_the_registry_for_deaths_and_moves(member_vy, home):
    household, an, binh = home
    visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "deceased", ""), (binh.pk, "moved_away", "")],
    )
    an.refresh_from_db()
    binh.refresh_from_db()
    assert not an.deceased and not binh.moved_out
    assert set(VisitOutcome.objects.values_list("review", flat=True)) == {""}


def test_it_keeps_claims_beside_the_confirmed_stage(member_vy, home):
    household, an, binh = home
    visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(an.pk, "helped_register", ""), (binh.pk, "guided_usage", "")],
    )
    an.refresh_from_db()
    binh.refresh_from_db()
    assert an.eid_stage == "none" and binh.eid_stage == "registered"
    claims = dict(VisitOutcome.objects.values_list("resident_id", "claimed_stage"))
    # Guided to use a registered (not yet activated) person: recorded as activated, flagged.
    assert claims == {an.pk: "registered", binh.pk: "activated"}
    assert VisitOutcome.objects.get(resident=binh).skipped_from == "used"
    assert not VisitOutcome.objects.filter(confirmed_at__isnull=False).exists()


def test_it_confirms_at_once_a_claim_the_registry_already_shows(member_vy, home):
    household, _an, binh = home
    visit_record(
        member=member_vy,
        household=household,
        at=morning(),
        outcomes=[(binh.pk, "helped_register", "")],
    )
    assert VisitOutcome.objects.get().confirmed_at is not None


def test_it_calls_the_after_visit_hook_once_per_created_visit(member_vy, home, monkeypatch):
    from gocua.fieldwork import visits

    seen = []
    monkeypatch.setattr(visits, "_after_visits", lambda recorded: seen.append(len(recorded)))
    household, an, _binh = home
    client_id = uuid.uuid4()
    for _ in range(2):
        visit_record(
            member=member_vy,
            household=household,
            at=morning(),
            outcomes=[(an.pk, "refused", "")],
            client_id=client_id,
        )
    assert seen == [1]


def test_it_refuses_malformed_ids(member_vy, home):
    household, an, _binh = home
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=household,
            at=morning(),
            outcomes=[(an.pk, "refused", "")],
            client_id="not-a-uuid",
        )
    assert exc.value.code == "bad_id"
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy, household=household, at=morning(), outcomes=[("abc", "refused", "")]
        )
    assert exc.value.code == "not_in_household"
    with pytest.raises(VisitRefused) as exc:
        visit_record(
            member=member_vy,
            household=household,
            at=morning(),
            outcomes=[(an.pk, "refused", "")],
            location={"lat": 123, "lon": 0},
        )
    assert exc.value.code == "bad_location"
    assert not Visit.objects.exists()


@pytest.mark.parametrize("where", ["visit note", "outcome note"])
def test_a_too_long_note_is_refused_whole_never_cut(member_vy, home, where):
    from gocua.lib import limits

    household, an, _binh = home
    visit_note, outcome_note = "", ""
    if where == "visit note":
        visit_note = "x" * (limits.NOTE + 1)
    else:
        outcome_note = "x" * (limits.OUTCOME_NOTE + 1)
    with pytest.raises(VisitRefused) as refused:
        visit_record(
            member=member_vy,
            household=household,
            at=morning(),
            outcomes=[(an.pk, "refused", outcome_note)],
            note=visit_note,
        )
    assert refused.value.code == "too_long"
    assert "tối đa" in refused.value.message
    assert not Visit.objects.exists() and not VisitOutcome.objects.exists()
