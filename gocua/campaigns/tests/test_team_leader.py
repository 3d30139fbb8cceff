"""One leader per team: ticking a second member moves the leadership (the previous leader is
unticked and the page names them); the database refuses a second leader whatever writes it."""

import importlib

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from gocua.campaigns import services
from gocua.campaigns.models import Member
from gocua.campaigns.tests.factories import fill_team


def leaders(team) -> list[str]:
    return list(team.members.filter(is_leader=True).values_list("full_name", flat=True))


def test_ticking_a_second_leader_moves_the_leadership(team_a, bob):
    first, second = fill_team(team_a, police=2, youth=0)
    services.member_update(member=first, is_leader=True, actor=bob)
    services.member_update(member=second, is_leader=True, actor=bob)
    assert leaders(team_a) == [second.full_name]
    added = services.member_add(
        team=team_a, full_name="Lê Thị Mới", affiliation="youth_union", is_leader=True, actor=bob
    )
    assert leaders(team_a) == [added.full_name]


def test_saving_the_leader_again_keeps_them_leader(team_a, bob):
    (first,) = fill_team(team_a, police=1, youth=0)
    services.member_update(member=first, is_leader=True, actor=bob)
    services.member_update(member=first, is_leader=True, full_name="Tên Mới", actor=bob)
    assert leaders(team_a) == ["Tên Mới"]


def test_the_database_refuses_a_second_leader(team_a):
    first, second = fill_team(team_a, police=2, youth=0)
    Member.objects.filter(pk=first.pk).update(is_leader=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.filter(pk=second.pk).update(is_leader=True)
    assert leaders(team_a) == [first.full_name]


def test_the_migration_keeps_one_leader_per_team_deterministically():
    """Existing duplicates are fixed before the constraint is added: an active leader before
    a removed one, then the earliest added; teams with one leader are left alone."""
    migration = importlib.import_module("gocua.campaigns.migrations.0003_one_leader_per_team")
    rows = [(7, 1, True), (3, 1, False), (9, 1, True), (4, 2, True), (5, 3, False), (6, 3, False)]
    assert migration.extra_leaders(rows) == [9, 3, 6]
    assert migration.extra_leaders(list(reversed(rows))) == [9, 3, 6]


def test_the_roster_page_says_who_the_new_leader_replaces(client, bob, team_a):
    first, second = fill_team(team_a, police=2, youth=0)
    services.member_update(member=first, is_leader=True)
    client.force_login(bob)
    edit = reverse("campaigns:member_edit", args=[team_a.pk, second.pk])
    page = client.get(edit).content.decode()
    assert f"Tổ trưởng hiện tại: {first.full_name}" in page
    response = client.post(
        edit,
        {"full_name": second.full_name, "affiliation": "police", "is_leader": "on", "phone": ""},
        follow=True,
    )
    assert f"thay {first.full_name}" in response.content.decode()
    assert leaders(team_a) == [second.full_name]
