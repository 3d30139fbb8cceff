"""POST /api/v1/auth/token with every kind of malformed body: 4xx, never 5xx, and a body that
names a user counts as a failed login for that user (no way around the lockout)."""

import json

import pytest
from axes.models import AccessAttempt
from django.conf import settings

from gocua.accounts.models import ApiToken

URL = "/api/v1/auth/token"


def failures(username: str) -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=username))


def _nested(depth: int) -> str:
    return '{"username": "bob", "password": "x", "deep": ' + "[" * depth + "]" * depth + "}"


BODIES = {
    # (content type, body): the status expected, and whether it names bob
    "multipart without a boundary": ("multipart/form-data", None, 415, True),
    "multipart with an empty boundary": ("multipart/form-data; boundary=", None, 415, True),
    "a form": ("application/x-www-form-urlencoded", "username=bob&password=x", 415, True),
    "JSON as text/plain": ("text/plain", None, 415, True),
    "no content type": ("", None, 415, True),
    "broken JSON": ("application/json", '{"username": "bob", "password"', 400, False),
    "a JSON list": ("application/json", '["bob", "x"]', 422, False),
    "a number for the password": (
        "application/json",
        '{"username": "bob", "password": 1}',
        422,
        True,
    ),
    "no password": ("application/json", '{"username": "bob"}', 422, True),
    "a number for the user name": (
        "application/json",
        '{"username": 7, "password": "x"}',
        422,
        False,
    ),
    "nested too deep": ("application/json", _nested(40), 400, True),
    "nested past the parser's limit": ("application/json", _nested(200_000), 400, False),
    "not UTF-8": ("application/json", b'{"username": "bob", "password": "\xff"}', 400, False),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_a_malformed_body_is_4xx_and_counts_against_the_user_it_names(client, bob, case):
    content_type, body, status, names_bob = BODIES[case]
    if body is None:
        body = json.dumps({"username": "bob", "password": "wrong"})
    response = client.post(URL, data=body, content_type=content_type)
    assert response.status_code == status, response.content[:300]
    assert isinstance(response.json()["detail"], str)
    assert failures("bob") == (1 if names_bob else 0)


def test_the_right_password_in_a_malformed_request_gets_no_token(client, bob):
    body = json.dumps({"username": "bob", "password": bob.raw_password})
    assert client.post(URL, data=body, content_type="multipart/form-data").status_code == 415
    assert not ApiToken.objects.exists()


def test_malformed_requests_lock_the_user_out(client, bob):
    body = json.dumps({"username": "bob", "password": "wrong"})
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert client.post(URL, data=body, content_type="multipart/form-data").status_code < 500
    right = json.dumps({"username": "bob", "password": bob.raw_password})
    assert client.post(URL, data=right, content_type="application/json").status_code == 429
    assert not ApiToken.objects.exists()


def test_the_login_page_answers_4xx_to_a_broken_multipart_body(client, bob):
    body = "username=bob&password=wrong"
    for content_type in ("multipart/form-data", "multipart/form-data; boundary="):
        response = client.post("/accounts/login/", data=body, content_type=content_type)
        assert 400 <= response.status_code < 500


def test_one_address_spraying_one_password_over_many_users_is_locked_out(client, bob, db):
    from gocua.accounts.models import User

    limit = settings.LOGIN_FAILURE_LIMIT_PER_IP
    for i in range(limit):
        User.objects.create_user(f"user{i}", password="pw-user-2026-long")
        body = json.dumps({"username": f"user{i}", "password": "Matkhau@2026"})
        response = client.post(URL, data=body, content_type="application/json")
        # As for one user: the failure that reaches the limit is answered with the lockout.
        assert response.status_code == (401 if i < limit - 1 else 429), (i, response.status_code)
    # Every user name was tried once, yet the address is now locked, for every account.
    right = json.dumps({"username": "bob", "password": bob.raw_password})
    assert client.post(URL, data=right, content_type="application/json").status_code == 429
    # Another address is not.
    other = client.post(URL, data=right, content_type="application/json", REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 200
