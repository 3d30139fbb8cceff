"""The Django admin is for superusers only; staff who are not superusers get nothing."""

import pytest

from gocua.accounts.models import ApiToken, AuditEntry, User
from gocua.accounts.services import audit_record, token_create


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", password="root-password-2026")


def test_it_sends_anonymous_users_to_the_one_login_page(client, db):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=/admin/")


def test_it_gives_staff_who_are_not_superusers_nothing(client, bob):
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    client.force_login(bob)
    for url in ("/admin/", "/admin/accounts/user/", "/admin/login/", "/admin/accounts/auditentry/"):
        assert client.get(url).status_code == 404, url


def test_it_lets_superusers_in(client, root, bob):
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get(f"/admin/accounts/user/{bob.pk}/change/").status_code == 200


def test_it_shows_the_audit_log_read_only(client, root, bob):
    entry = audit_record(user=bob, action="view", object_type="resident", object_id=1, unit=None)
    client.force_login(root)
    assert client.get("/admin/accounts/auditentry/").status_code == 200
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    response = client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_it_revokes_tokens_from_the_admin(client, root, bob):
    token, _ = token_create(user=bob, campaign_deadline=None)
    client.force_login(root)
    response = client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
