"""POST /api/v1/auth/revoke, and how bearer tokens are accepted."""

from gocua.accounts.models import ApiToken, AuditEntry


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_it_revokes_the_token_it_is_sent_with(client, bob, token_for):
    token, other = token_for(bob), token_for(bob)
    response = client.post("/api/v1/auth/revoke", **bearer(token))
    assert response.status_code == 200 and response.json() == {"revoked": True}
    after = client.get("/api/v1/me", **bearer(token))
    assert after.status_code == 401 and "revoked" in after.json()["detail"]
    assert client.get("/api/v1/me", **bearer(other)).status_code == 200
    assert client.post("/api/v1/auth/revoke", **bearer(token)).status_code == 401
    entry = AuditEntry.objects.get(action="token_revoke")
    assert entry.user == bob
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_it_needs_a_bearer_token_not_a_session(client, bob):
    client.force_login(bob)
    assert client.post("/api/v1/auth/revoke").status_code == 401


def test_it_answers_401_with_a_hint_for_bad_headers(client, bob, token_for):
    token = token_for(bob)
    for header in (
        "",
        "Bearer",
        "Bearer ",
        f"Token {token}",
        f"Basic {token}",
        "Bearer nope",
        f"Bearer {token}x",
    ):
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert response["WWW-Authenticate"] == "Bearer"
        assert "Authorization: Bearer" in response.json()["detail"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"bearer {token}").status_code == 200


def test_it_accepts_the_browser_session_with_csrf_for_unsafe_methods(bob):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bob)
    assert strict.get("/api/v1/me").status_code == 200
