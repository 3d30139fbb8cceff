import pytest
from django.urls import reverse

from gocua.campaigns import services
from gocua.campaigns.models import Assignment, Member, Team
from gocua.campaigns.tests.factories import fill_team


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_it_lists_teams_with_what_their_roster_lacks(as_user, bob, team_a):
    fill_team(team_a, police=1, youth=3)
    body = as_user(bob).get(reverse("campaigns:teams")).content.decode()
    assert team_a.name in body
    assert "thiếu 1 Công an" in body and "thiếu 6 Đoàn thanh niên" in body


def test_it_shows_viewers_counts_but_no_roster(as_user, olivia, team_a, member_vy):
    client = as_user(olivia)
    body = client.get(reverse("campaigns:teams")).content.decode()
    assert team_a.name in body and member_vy.full_name not in body
    assert client.get(reverse("campaigns:team", args=[team_a.pk])).status_code == 404


def test_it_hides_team_pages_from_field_members(as_user, vy, team_a):
    client = as_user(vy)
    assert client.get(reverse("campaigns:teams")).status_code == 404
    assert client.get(reverse("campaigns:team", args=[team_a.pk])).status_code == 404


def test_it_creates_the_missing_teams_of_a_district(as_user, dan, campaign, tree):
    response = as_user(dan).post(reverse("campaigns:teams_create_missing"))
    assert response.status_code == 302
    assert set(Team.objects.values_list("unit__code", flat=True)) == {"25456", "703", "25459"}


def test_it_adds_edits_and_removes_a_member(as_user, bob, team_a):
    client = as_user(bob)
    url = reverse("campaigns:team", args=[team_a.pk])
    response = client.post(
        url, {"full_name": "Trần Văn Công", "affiliation": "police", "phone": "+84 912 345 678"}
    )
    assert response.status_code == 302
    member = Member.objects.get(full_name="Trần Văn Công")
    assert member.phone == "0912345678"
    response = client.post(url, {"full_name": "X", "affiliation": "police", "phone": "123"})
    assert response.status_code == 200 and "phone" in response.context["form"].errors
    edit = reverse("campaigns:member_edit", args=[team_a.pk, member.pk])
    assert client.get(edit).status_code == 200
    client.post(
        edit,
        {"full_name": "Trần Văn Công", "affiliation": "police", "is_leader": "on", "phone": ""},
    )
    member.refresh_from_db()
    assert member.is_leader
    client.post(reverse("campaigns:member_remove", args=[team_a.pk, member.pk]))
    member.refresh_from_db()
    assert not member.active


def test_it_keeps_charlie_out_of_xa_a_teams(as_user, charlie, team_a, member_vy):
    client = as_user(charlie)
    assert client.get(reverse("campaigns:team", args=[team_a.pk])).status_code == 404
    assert (
        client.post(
            reverse("campaigns:team", args=[team_a.pk]), {"full_name": "X", "affiliation": "police"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("campaigns:member_remove", args=[team_a.pk, member_vy.pk])).status_code
        == 404
    )
    assert client.get(reverse("campaigns:assignments", args=[team_a.pk])).status_code == 404
    assert team_a.name not in client.get(reverse("campaigns:teams")).content.decode()


@pytest.mark.parametrize("n", [2, 20])
def test_it_lists_teams_and_rosters_in_bounded_queries(
    n, as_user, alice, campaign, tree, team_a, django_assert_max_num_queries
):
    services.teams_create_missing(campaign=campaign)
    fill_team(team_a, police=n, youth=n)
    client = as_user(alice)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("campaigns:teams")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("campaigns:team", args=[team_a.pk])).status_code == 200


def test_it_assigns_hamlets_with_counts_shown(
    as_user, bob, team_a, member_vy, tree, resident_factory
):
    resident_factory(tree.kp2)
    resident_factory(tree.kp2, stage="used")
    client = as_user(bob)
    url = reverse("campaigns:assignments", args=[team_a.pk])
    response = client.get(url)
    assert response.status_code == 200
    rows = {r["hamlet"].code: r for r in response.context["rows"]}
    assert rows["25456-02"]["counts"] == {"residents": 2, "eligible": 2, "gap": 1}
    assert [r["hamlet"].code for r in response.context["unassigned"]] == ["25456-02"]
    response = client.post(url, {f"a_{tree.kp2.pk}_{member_vy.pk}": "on"})
    assert response.status_code == 302
    assert set(Assignment.objects.values_list("hamlet_id", flat=True)) == {tree.kp2.pk}


@pytest.mark.parametrize("n", [2, 20])
def test_it_renders_assignments_in_bounded_queries(
    n, as_user, bob, team_a, tree, django_assert_max_num_queries
):
    from gocua.geo.models import AdminUnit
    from gocua.lib.text import key

    for i in range(n):
        name = f"Ấp {i + 10}"
        AdminUnit.objects.create(
            edition=2023,
            code=f"25456-{i + 10}",
            name=name,
            level="hamlet",
            parent=tree.xa_a,
            path=f"{tree.xa_a.path}25456-{i + 10}/",
            depth=4,
            province_code="72",
            name_key=key(name),
        )
    fill_team(team_a, police=2, youth=n)
    client = as_user(bob)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("campaigns:assignments", args=[team_a.pk])).status_code == 200


def test_it_filters_the_teams_that_break_the_rules(as_user, alice, campaign, team_a, tree):
    services.teams_create_missing(campaign=campaign)
    fill_team(team_a, police=2, youth=9)  # with Vy: complete
    client = as_user(alice)
    response = client.get(reverse("campaigns:teams"), {"flagged": "1"})
    assert response.context["incomplete"] == 4
    assert team_a not in response.context["teams"]
    assert len(client.get(reverse("campaigns:teams")).context["teams"]) == 5
