import pytest
from django.urls import reverse

from gocua.fieldwork.tests.helpers import street


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_it_shows_a_volunteer_their_hamlets_only(as_user, vy, campaign, tree, resident_factory):
    street(tree.kp1, resident_factory, 2, prefix="Trần Phú")
    street(tree.kp2, resident_factory, 1, prefix="Lê Lợi")
    response = as_user(vy).get(reverse("fieldwork:worklist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "001 Trần Phú" in body and "Lê Lợi" not in body
    assert "072" in body and "******" in body  # masked IDs only
    assert len(response.context["households"]) == 2


def test_it_lets_a_manager_pick_team_hamlet_member_and_filters(
    as_user, bob, team_a, member_vy, tree, resident_factory
):
    street(tree.kp1, resident_factory, 2, prefix="Trần Phú")
    street(tree.kp2, resident_factory, 1, prefix="Lê Lợi")
    client = as_user(bob)
    url = reverse("fieldwork:worklist")
    assert len(client.get(url).context["households"]) == 3  # his commune's team by default
    assert len(client.get(url, {"hamlet": tree.kp2.pk}).context["households"]) == 1
    assert len(client.get(url, {"member": member_vy.pk}).context["households"]) == 2
    only_elderly = client.get(url, {"flag": "elderly"}).context["households"]
    assert all(r["flags"] == ["elderly"] for h in only_elderly for r in h["residents"])
    not_activated = client.get(url, {"gap": "not_activated"}).context["households"]
    assert {r["gap"] for h in not_activated for r in h["residents"]} == {"not_activated"}


def test_it_answers_404_for_out_of_scope_choices(as_user, charlie, bob, team_a, member_vy, tree):
    client = as_user(charlie)
    url = reverse("fieldwork:worklist")
    assert client.get(url, {"team": team_a.pk}).status_code == 404
    assert client.get(url, {"member": member_vy.pk}).status_code == 404
    client = as_user(bob)
    assert client.get(url, {"hamlet": tree.b_kp1.pk}).status_code == 404
    assert client.get(url, {"gap": "bogus"}).status_code == 404


def test_it_shows_viewers_nothing(as_user, olivia, campaign):
    client = as_user(olivia)
    assert client.get(reverse("fieldwork:worklist")).status_code == 404
    assert client.get(reverse("fieldwork:worklist_print")).status_code == 404


def test_it_prints_one_hamlet_per_page_with_tick_boxes(
    as_user, bob, team_a, tree, resident_factory
):
    street(tree.kp1, resident_factory, 2)
    street(tree.kp2, resident_factory, 1, prefix="Lê Lợi")
    response = as_user(bob).get(reverse("fieldwork:worklist_print"), {"team": team_a.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="hamlet-page"') == 2
    assert "☐" in body and "******" in body
    assert 'style="' not in body


@pytest.mark.parametrize("n", [2, 20])
def test_it_renders_worklists_in_the_same_queries_for_2_or_20_households(
    n, as_user, bob, vy, team_a, tree, resident_factory, django_assert_max_num_queries
):
    street(tree.kp1, resident_factory, n)
    client = as_user(bob)
    # (+1 each since the page records in the audit log whom it showed: one insert; +1 for
    # the hamlets that have residents without a household.)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("fieldwork:worklist"))
    assert len(response.context["households"]) == n
    with django_assert_max_num_queries(14):
        assert client.get(reverse("fieldwork:worklist_print")).status_code == 200
    client = as_user(vy)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("fieldwork:worklist"))
    assert len(response.context["households"]) == n
