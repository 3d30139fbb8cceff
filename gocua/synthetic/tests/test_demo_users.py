import pytest

from gocua.accounts.models import User
from gocua.campaigns.models import Assignment, Member
from gocua.synthetic.demo_users import demo_login_cards, demo_users_ensure


@pytest.mark.django_db
def test_it_makes_one_account_per_role_and_can_run_twice(province):
    demo_users_ensure(province=province.unit, password="go-cua-demo-2026")
    made = demo_users_ensure(province=province.unit, password="go-cua-demo-2026")
    assert [m["role"] for m in made] == [
        "province_admin",
        "unit_manager",
        "unit_manager",
        "field_member",
        "viewer",
    ]
    volunteer = User.objects.get(username="demo_tnv")
    assert volunteer.check_password("go-cua-demo-2026")
    # A real member's place on the commune's roster: the team keeps its 2 + 10.
    member = Member.objects.get(user=volunteer)
    assert member.affiliation == "youth_union"
    team = member.team
    assert team.members.filter(active=True).count() == 12
    assert Assignment.objects.filter(member__user=volunteer).count() > 0


@pytest.mark.django_db
def test_it_prints_the_login_cards_of_the_demo_commune_s_team(province):
    demo_users_ensure(province=province.unit, password="go-cua-demo-2026")
    team, html = demo_login_cards(province=province.unit, base_url="http://127.0.0.1:8000")
    members = team.members.filter(active=True)
    assert not members.filter(user__isnull=True).exists()
    assert html.count('class="login-card-body"') == members.count() - 1  # all but demo_tnv
    assert "http://127.0.0.1:8000/accounts/code/?u=" in html
