import pytest

from gocua.campaigns import services
from gocua.campaigns.models import Member, Team
from gocua.campaigns.selectors import team_composition, teams_for_user
from gocua.campaigns.services import NotAllowed, OperationRefused
from gocua.campaigns.tests.factories import fill_team


def test_it_creates_the_missing_teams_once(campaign, alice, tree):
    created = services.teams_create_missing(campaign=campaign, actor=alice)
    # Xã A already has Vy's team; the two districts and Xã B, Xã C get one each.
    assert {t.unit.code for t in created} == {"703", "705", "25459", "25489"}
    assert services.teams_create_missing(campaign=campaign, actor=alice) == []
    assert Team.objects.filter(campaign=campaign).count() == 5


def test_it_limits_a_district_officer_to_their_district(campaign, dan, tree):
    created = services.teams_create_missing(campaign=campaign, under=tree.district, actor=dan)
    assert {t.unit.code for t in created} == {"703", "25459"}
    with pytest.raises(NotAllowed):
        services.teams_create_missing(campaign=campaign, under=tree.district2, actor=dan)


def test_it_refuses_a_team_for_a_hamlet_or_a_second_team(campaign, bob, tree):
    with pytest.raises(OperationRefused):
        services.team_create(campaign=campaign, unit=tree.kp1, actor=bob)
    with pytest.raises(OperationRefused):
        services.team_create(campaign=campaign, unit=tree.xa_a, actor=bob)


def test_it_refuses_a_team_outside_the_officers_unit(campaign, charlie, tree):
    with pytest.raises(NotAllowed):
        services.team_create(campaign=campaign, unit=tree.xa_c, actor=charlie)


def test_it_reports_a_commune_roster_against_2_police_and_10_youth(team_a):
    # Vy (youth union) is already on the roster.
    fill_team(team_a, police=1, youth=9, women_union=1)
    composition = team_composition(team_a)
    assert composition.required == {"police": 2, "youth_union": 10}
    assert composition.missing == {"police": 1}
    assert composition.extra == {"women_union": 1}
    assert not composition.complete
    assert composition.total == 12 and composition.total_required == 12
    assert "thiếu 1 Công an" in composition.problems()


def test_it_accepts_a_complete_commune_roster(team_a):
    fill_team(team_a, police=2, youth=9)
    composition = team_composition(team_a)
    assert composition.complete and composition.ok


def test_it_uses_the_district_rules_and_the_campaigns_edits(campaign, tree):
    team = services.team_create(campaign=campaign, unit=tree.district)
    fill_team(team, police=10, youth=10)
    assert team_composition(team).ok
    services.campaign_update(campaign=campaign, district_team_police=12)
    team.campaign.refresh_from_db()
    assert team_composition(team).missing == {"police": 2}


def test_it_counts_every_teams_roster_in_one_query(
    campaign, alice, tree, django_assert_num_queries
):
    services.teams_create_missing(campaign=campaign)
    with django_assert_num_queries(1):
        teams = teams_for_user(alice, campaign)
    assert len(teams) == 5
    by_code = {t.unit.code: t for t in teams}
    assert by_code["25456"].composition.actual == {"youth_union": 1}
    assert by_code["703"].composition.missing == {"police": 10, "youth_union": 10}


def test_it_normalises_member_phones_and_refuses_bad_ones(team_a, bob):
    member = services.member_add(
        team=team_a,
        full_name="  Trần   Văn  Bình ",
        affiliation="police",
        phone="+84 912.345.678",
        actor=bob,
    )
    assert member.full_name == "Trần Văn Bình"
    assert member.phone == "0912345678"
    with pytest.raises(OperationRefused) as exc:
        services.member_add(
            team=team_a, full_name="X", affiliation="police", phone="12345", actor=bob
        )
    assert exc.value.field == "phone"
    with pytest.raises(OperationRefused):
        services.member_add(team=team_a, full_name="X", affiliation="army", actor=bob)


def test_it_links_a_user_of_the_unit_only_once_per_campaign(team_a, bob, charlie, vy):
    with pytest.raises(OperationRefused) as exc:
        services.member_add(
            team=team_a, full_name="Vy 2", affiliation="youth_union", user=vy, actor=bob
        )
    assert exc.value.field == "user"
    with pytest.raises(OperationRefused):
        # Charlie's account belongs to Xã B.
        services.member_add(
            team=team_a, full_name="C", affiliation="police", user=charlie, actor=bob
        )
    member = services.member_add(
        team=team_a, full_name="Bob", affiliation="police", user=bob, actor=bob
    )
    assert member.user == bob


def test_it_keeps_charlie_out_of_xa_a_rosters(team_a, charlie, member_vy):
    with pytest.raises(NotAllowed):
        services.member_add(team=team_a, full_name="X", affiliation="police", actor=charlie)
    with pytest.raises(NotAllowed):
        services.member_update(member=member_vy, full_name="Y", actor=charlie)
    with pytest.raises(NotAllowed):
        services.member_remove(member=member_vy, actor=charlie)


def test_it_updates_and_removes_a_member_freeing_their_hamlets(member_vy, bob):
    services.member_update(member=member_vy, phone="0987 654 321", is_leader=True, actor=bob)
    member_vy.refresh_from_db()
    assert member_vy.phone == "0987654321" and member_vy.is_leader
    services.member_remove(member=member_vy, actor=bob)
    member_vy.refresh_from_db()
    assert not member_vy.active
    assert not member_vy.assignments.exists()
    assert Member.objects.filter(pk=member_vy.pk).exists()  # kept for its visits
