import pytest
from django.urls import reverse

MODELS = [
    "campaigns_campaign",
    "campaigns_unittarget",
    "campaigns_team",
    "campaigns_member",
    "campaigns_assignment",
    "fieldwork_visit",
    "fieldwork_followup",
    "fieldwork_homesupportrequest",
    "fieldwork_outreachevent",
    "fieldwork_trainingsession",
]


@pytest.fixture
def superuser(db):
    from gocua.accounts.models import User

    return User.objects.create_superuser(username="root", password="pw-root-2026-long")


@pytest.mark.parametrize("name", MODELS)
def test_it_lists_campaign_and_fieldwork_models_in_the_admin(name, client, superuser, member_vy):
    client.force_login(superuser)
    assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_it_keeps_visits_read_only(client, superuser):
    client.force_login(superuser)
    assert client.get(reverse("admin:fieldwork_visit_add")).status_code == 403
