"""Every route, driven with what breaks parsers: overflowing integers, far dates, control
characters, deeply nested bodies. Never a 5xx: a 400, 404 or 422 says what was wrong.

Routes are discovered from the URL resolver (as in the permission matrix), so a route added
later is covered without editing this file; every query parameter name any view reads is
tried, with every hostile value."""

import json

import pytest
from django.urls import NoReverseMatch, reverse

from gocua.accounts.services import token_create
from gocua.accounts.tests.test_permission_matrix import World, _placeholder, _routes, _value

HOSTILE = [
    "99999999999999999999999",
    "-1",
    "0",
    "9999-12",
    "9999-12-31",
    "0001-01-01",
    "99999-01-01",
    "2026-13-45",
    "1e309",
    "nan",
    "true",
    "\x00",
    "%",
    "x" * 5000,
]
# For form bodies: an overflowing number, a far date, a NUL, a very long text.
HOSTILE_FORM = [HOSTILE[0], HOSTILE[4], HOSTILE[11], HOSTILE[13]]
# Every query parameter a page or route of GõCửa reads.
PARAMS = [
    "page",
    "month",
    "start",
    "end",
    "from",
    "to",
    "date",
    "day",
    "limit",
    "offset",
    "since",
    "team",
    "member",
    "hamlet",
    "unit",
    "status",
    "due",
    "format",
    "metric",
    "sort",
    "q",
    "edition",
    "gap",
    "flag",
    "mine",
    "action",
    "next",
]
NESTED = '{"visits": ' + "[" * 50_000 + "]" * 50_000 + "}"


@pytest.fixture
def world(tree, alice, dan, bob, vy):
    return World(tree, alice, dan, bob, vy)


def _url(name, params, world):
    kwargs = {}
    for param, converter in params.items():
        value = _value(name, None, param, converter, world.tree.xa_a, world)
        kwargs[param] = value if value is not None else _placeholder(converter)
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _headers(client, url, user):
    if url.startswith("/api/"):
        client.logout()
        return {
            "HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, campaign_deadline=None)[1]}"
        }
    client.force_login(user)
    return {}


@pytest.mark.parametrize("role", ["province_admin", "field_member"])
def test_no_query_string_makes_a_route_fail(client, world, role):
    user, _ = world.personas[role]
    tried = 0
    for name, params in _routes():
        url = _url(name, params, world)
        if url is None or name in ("accounts:logout",):
            continue
        headers = _headers(client, url, user)
        for value in HOSTILE:
            query = {param: value for param in PARAMS}
            response = client.get(url, query, **headers)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            assert response.status_code < 500, f"{role} GET {name} {url} {value!r}"
            tried += 1
    assert tried > 300


@pytest.mark.parametrize("role", ["province_admin", "field_member"])
def test_no_body_makes_a_route_fail(client, world, role):
    user, _ = world.personas[role]
    for name, params in _routes():
        url = _url(name, params, world)
        if url is None or name in ("accounts:logout", "set_language"):
            continue
        bodies = [
            ("application/json", NESTED),
            ("application/json", json.dumps({p: HOSTILE[0] for p in PARAMS})),
            ("application/json", json.dumps({"visits": [{"id": "x", "household": 10**30}]})),
            ("application/json", "[" * 30 + "]" * 30),
            ("multipart/form-data", "garbage"),
        ]
        for content_type, body in bodies:
            headers = _headers(client, url, user)
            response = client.post(url, body, content_type=content_type, **headers)
            assert response.status_code < 500, f"{role} POST {name} {url} {content_type}"
        for value in HOSTILE_FORM:
            headers = _headers(client, url, user)
            response = client.post(url, {p: value for p in PARAMS}, **headers)
            assert response.status_code < 500, f"{role} POST {name} {url} form {value!r}"


def test_the_known_cases_answer_4xx(client, world):
    user, _ = world.personas["commune_manager"]
    client.force_login(user)
    assert client.get("/fieldwork/worklist/", {"page": "99999999999999999"}).status_code == 404
    assert client.get("/fieldwork/outreach/", {"month": "9999-12"}).status_code == 404
    token = token_create(user=user, campaign_deadline=None)[1]
    response = client.post(
        "/api/v1/visits/sync",
        NESTED,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400 and "nested" in response.json()["detail"]
