"""How API tokens end: a password change on any path (the page, the command line, the admin),
deactivation, 30 days unused, the campaign's deadline + 30 days or 180 days, and a manager
revoking a lost phone from the team page (which also logs the account out of every browser)."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from gocua.accounts.models import ApiToken, AuditEntry, User
from gocua.accounts.services import (
    token_authenticate,
    token_create,
    token_expiry,
    tokens_revoke_all,
    user_deactivate,
    user_password_set,
)

NEW = "một-mật-khẩu-mới-2026"


def bearer(client, key):
    """The status of an API call with the token alone (a fresh client: no session)."""
    fresh = client.__class__()
    return fresh.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


@pytest.fixture
def key(bob):
    return token_create(user=bob, campaign_deadline=None)[1]


def test_a_password_change_on_the_page_ends_the_tokens(client, bob, key):
    assert bearer(client, key) == 200
    client.force_login(bob)
    response = client.post(
        "/accounts/password/",
        {"old_password": bob.raw_password, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert bearer(client, key) == 401
    assert ApiToken.objects.get(user=bob).revoked_at is not None
    entry = AuditEntry.objects.get(action="tokens_revoke")
    assert entry.detail["reason"] == "password_change" and entry.detail["tokens"] == 1
    # The officer who changed it stays logged in on this browser.
    assert client.get("/accounts/password/done/").status_code == 200


def test_a_password_change_on_the_command_line_ends_the_tokens(client, bob, key, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW + "\n"))
    call_command("user", "password", "bob", "--password-stdin", stdout=io.StringIO())
    bob.refresh_from_db()
    assert bob.check_password(NEW)
    assert bearer(client, key) == 401
    entry = AuditEntry.objects.get(action="password_change")
    assert entry.username.startswith("cli:") and entry.detail["authority"] == "installation"


def test_a_password_change_in_the_admin_ends_the_tokens(client, bob, key):
    root = User.objects.create_superuser("root", password="root-password-2026")
    client.force_login(root)
    response = client.post(
        f"/admin/accounts/user/{bob.pk}/password/", {"password1": NEW, "password2": NEW}
    )
    assert response.status_code == 302
    assert bearer(client, key) == 401
    assert ApiToken.objects.get(user=bob).revoked_at is not None


def test_any_other_way_of_changing_the_password_ends_the_tokens_too(client, bob, key):
    """Django's own `changepassword` command, a shell: the token was made with the old
    password, and the check compares."""
    bob.set_password(NEW)
    bob.save()
    assert bearer(client, key) == 401


def test_deactivation_ends_the_tokens_and_the_sessions(client, bob, key):
    client.force_login(bob)
    user_deactivate(user=bob, by=None)
    assert bearer(client, key) == 401
    assert client.get("/residents/").status_code == 302  # to the login page
    assert AuditEntry.objects.filter(action="deactivate").exists()


def test_deactivation_in_the_admin_revokes_the_tokens(client, bob, key):
    root = User.objects.create_superuser("root", password="root-password-2026")
    client.force_login(root)
    page = client.get(f"/admin/accounts/user/{bob.pk}/change/")
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data.update(username="bob", role=bob.role, unit=bob.unit_id, is_active="")
    data.pop("password", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data["date_joined_0"] = timezone.localtime(bob.date_joined).strftime("%Y-%m-%d")
    data["date_joined_1"] = timezone.localtime(bob.date_joined).strftime("%H:%M:%S")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(f"/admin/accounts/user/{bob.pk}/change/", data)
    assert response.status_code == 302, response.content[:500]
    assert ApiToken.objects.get(user=bob).revoked_at is not None


def test_a_token_unused_for_30_days_ends(bob, key, settings):
    token = ApiToken.objects.get(user=bob)
    assert token_authenticate(key) is not None
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - dt.timedelta(days=settings.TOKEN_IDLE_DAYS, seconds=1)
    )
    assert token_authenticate(key) is None


def test_a_400_day_old_token_ends_even_if_used_every_day(bob, key):
    token = ApiToken.objects.get(user=bob)
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400),
        expires_at=timezone.now() - dt.timedelta(days=220),
        last_used_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert token_authenticate(key) is None


def test_tokens_end_30_days_after_the_deadline_or_after_180_days(settings):
    now = timezone.now()
    assert token_expiry(now=now, campaign_deadline=None) == now + dt.timedelta(days=180)
    soon = timezone.localdate() + dt.timedelta(days=10)
    end = token_expiry(now=now, campaign_deadline=soon)
    assert timezone.localtime(end).date() == soon + dt.timedelta(days=31)
    far = timezone.localdate() + dt.timedelta(days=400)
    assert token_expiry(now=now, campaign_deadline=far) == now + dt.timedelta(days=180)


def test_the_api_gives_tokens_that_end_with_the_campaign(client, vy):
    """The current campaign of vy's province ends on 31/12/2026 (conftest)."""
    response = client.post(
        "/api/v1/auth/token",
        {"username": "vy", "password": vy.raw_password},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=vy)
    deadline = dt.date(2026, 12, 31)
    latest = min(
        token.created_at + dt.timedelta(days=180),
        dt.datetime.combine(
            deadline + dt.timedelta(days=31), dt.time(), tzinfo=timezone.get_current_timezone()
        ),
    )
    assert token.expires_at == latest


def test_a_manager_revokes_a_lost_phone_from_the_team_page(client, bob, vy):
    _, key = token_create(user=vy, campaign_deadline=None)
    phone = client.__class__()
    phone.force_login(vy)
    assert phone.get("/field/").status_code == 200
    client.force_login(bob)
    team = vy.member.team
    page = client.get(f"/campaigns/teams/{team.pk}/").content.decode()
    assert "Mất điện thoại" in page
    url = f"/campaigns/teams/{team.pk}/members/{vy.member.pk}/revoke-phone/"
    assert client.post(url).status_code == 302
    assert bearer(client, key) == 401
    # The phone's browser session ended too: it cannot trade it for a new token.
    assert phone.post("/api/v1/field/token").status_code in (401, 403)
    assert phone.get("/field/").status_code == 302
    entry = AuditEntry.objects.get(action="tokens_revoke")
    assert entry.user == bob and entry.detail["reason"] == "lost_phone"


def test_only_the_members_own_managers_may_revoke_it(client, charlie, vy, olivia):
    _, key = token_create(user=vy, campaign_deadline=None)
    team = vy.member.team
    url = f"/campaigns/teams/{team.pk}/members/{vy.member.pk}/revoke-phone/"
    for other in (charlie, olivia, vy):
        client.force_login(other)
        assert client.post(url).status_code == 404
    assert bearer(client, key) == 200


def test_revoking_keeps_a_record(bob):
    token_create(user=bob, campaign_deadline=None)
    token_create(user=bob, campaign_deadline=None)
    assert tokens_revoke_all(user=bob, by=None, reason="lost_phone") == 2
    assert not ApiToken.objects.filter(user=bob, revoked_at__isnull=True).exists()
    assert ApiToken.objects.filter(user=bob).count() == 2


def test_a_new_password_is_validated(bob):
    from gocua.accounts.services import AccountError

    with pytest.raises(AccountError, match="password rejected"):
        user_password_set(user=bob, password="12345678", by=None)
