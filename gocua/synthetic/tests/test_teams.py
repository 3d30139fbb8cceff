"""The campaign and its teams: one per district (10 police + 10 youth) and per commune (2 + 10)."""

import datetime as dt
from collections import Counter
from decimal import Decimal

from gocua.campaigns.models import Assignment, Campaign, Member, Team
from gocua.fieldwork.models import OutreachEvent, TrainingSession
from gocua.geo.models import AdminUnit


def test_it_plans_a_sixty_day_campaign_ending_today(province, db):
    campaign = Campaign.objects.get(is_current=True)
    assert campaign.province == province.unit
    assert campaign.window_days == 60
    assert campaign.window_end == province.today
    assert campaign.deadline == dt.date(province.today.year, 12, 31)
    assert campaign.min_age == 14
    assert (campaign.target_registration, campaign.target_activation, campaign.target_usage) == (
        1,
        1,
        Decimal("0.8"),
    )


def test_it_forms_one_team_of_the_right_shape_per_district_and_commune(province, db):
    units = AdminUnit.objects.filter(edition=2023, path__startswith=province.unit.path)
    teams = Team.objects.filter(campaign__is_current=True).select_related("unit")
    assert sorted(t.unit_id for t in teams) == sorted(
        units.filter(level__in=("district", "commune")).values_list("id", flat=True)
    )
    for team in teams.prefetch_related("members"):
        counts = Counter(m.affiliation for m in team.members.all())
        expected = (
            {"police": 10, "youth_union": 10}
            if team.unit.level == "district"
            else {"police": 2, "youth_union": 10}
        )
        assert counts == expected, team.name
        assert sum(m.is_leader for m in team.members.all()) == 1
        for member in team.members.all():
            assert len(member.full_name.split()) >= 3 and len(member.phone) == 10


def test_it_assigns_every_hamlet_and_gives_every_volunteer_a_hamlet(province, db):
    hamlets = AdminUnit.objects.filter(
        edition=2023, level="hamlet", path__startswith=province.unit.path
    )
    assigned = set(Assignment.objects.values_list("hamlet_id", flat=True))
    assert assigned == set(hamlets.values_list("id", flat=True))
    for assignment in Assignment.objects.select_related("member__team", "hamlet")[:300]:
        assert assignment.hamlet.parent_id == assignment.member.team.unit_id
    volunteers = Member.objects.filter(team__unit__level="commune", affiliation="youth_union")
    assert not volunteers.exclude(assignments__isnull=False).exists()


def test_it_records_a_few_outreach_events_and_trainings(province, db):
    start = province.today - dt.timedelta(days=59)
    events = OutreachEvent.objects.filter(unit__path__startswith=province.unit.path)
    assert 20 <= events.count() <= 100
    for event in events.select_related("team"):
        assert start <= event.date < province.today and event.place
        assert event.dossiers_collected <= event.people_reached
        assert event.activations_helped <= event.people_reached
        assert event.team.unit_id == event.unit_id
    sessions = TrainingSession.objects.filter(unit__path__startswith=province.unit.path)
    assert sessions.count() == 9  # one per district
    for session in sessions:
        assert start <= session.date < province.today and session.organiser
        attendees = list(session.attendances.select_related("member__team__unit"))
        assert any(a.member is None for a in attendees)  # commune staff off the rosters
        for a in attendees:
            if a.member is not None:
                assert a.member.team.unit.path.startswith(session.unit.path)
                assert a.name == a.member.full_name
