"""POST /api/v1/auth/token."""

import hashlib
import json

from django.conf import settings

from gocua.accounts.models import ApiToken, AuditEntry


def post(client, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post("/api/v1/auth/token", data, content_type="application/json", **extra)


def test_it_exchanges_a_password_for_a_token_stored_hashed(client, bob):
    response = post(client, {"username": "bob", "password": bob.raw_password})
    assert response.status_code == 200
    token = response.json()["token"]
    stored = ApiToken.objects.get(user=bob)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert AuditEntry.objects.filter(action="token_create", user=bob).exists()
    bob.refresh_from_db()
    assert bob.last_login is not None
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200 and me.json()["username"] == "bob"


def test_it_answers_401_json_to_wrong_credentials(client, bob):
    for body in ({"username": "bob", "password": "wrong"}, {"username": "nobody", "password": "x"}):
        response = post(client, body)
        assert response.status_code == 401
        assert "wrong user name or password" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_it_refuses_an_inactive_user(client, bob):
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert post(client, {"username": "bob", "password": bob.raw_password}).status_code == 401


def test_it_answers_readable_json_to_bad_bodies(client, db):
    missing = post(client, {"username": "bob"})
    assert missing.status_code == 422
    assert "password" in missing.json()["detail"] and isinstance(missing.json()["detail"], str)
    broken = post(client, "{not json")
    assert broken.status_code == 400 and isinstance(broken.json()["detail"], str)


def test_it_is_throttled_with_the_login_page(client, bob):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert post(client, {"username": "bob", "password": "wrong"}).status_code == 401
    locked = post(client, {"username": "bob", "password": "wrong"})
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json")
    assert "15 phút" in locked.json()["detail"]
    assert post(client, {"username": "bob", "password": bob.raw_password}).status_code == 429
    # The page login is locked too: same user, same address.
    page = client.post("/accounts/login/", {"username": "bob", "password": bob.raw_password})
    assert page.status_code == 429
    assert not ApiToken.objects.exists()


def test_it_does_not_need_a_csrf_token(bob):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = post(strict, {"username": "bob", "password": bob.raw_password})
    assert response.status_code == 200


def test_it_refuses_nul_characters_with_422(client, bob):
    response = post(client, {"username": "bob\u0000", "password": "x"})
    assert response.status_code == 422 and "NUL" in response.json()["detail"]
