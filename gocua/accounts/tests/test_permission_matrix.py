"""The permission matrix: every role x {own, child, sibling, parent unit} x every page and API
route, discovered from the URL resolver (routes added later by other apps are covered without
editing this file).

For the routes listed in EXPECTED the exact status is checked. For any other route:
- anonymous users never get a 200 (only PUBLIC routes are open): a redirect to the login page
  for pages, 401 for the API, or 404/405;
- a route whose parameters name a unit, a resident or a household of a sibling or parent unit
  never answers 200 (the object does not exist for that user: 404);
- no route ever answers 5xx.
And for every answer: no name, national ID or phone number of a resident outside the user's
jurisdiction appears anywhere in the body.

Parameters are filled by name: `edition`, `code`/`unit_code` (the unit), `unit_id`,
`resident_id` (and `pk` under /residents/), `household_id`; any other parameter gets an object
that does not exist (999999 / "nope"), which must answer 404 or 405, never 5xx.
"""

import itertools
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from conftest import make_resident
from gocua.accounts.models import User
from gocua.accounts.services import token_create
from gocua.geo.models import AdminUnit
from gocua.lib.text import key
from gocua.people import records
from gocua.people.models import Household

SKIPPED_NAMESPACES = {"admin"}  # the admin has its own test (superusers only)
PUBLIC = {"accounts:login", "accounts:code", "api:openapi-json"}
MANAGERS = {"province_admin", "district_manager", "commune_manager"}
RELATIONS = ("own", "child", "sibling", "parent")


# ------------------------------------------------------------------------------ the expectations


def _in_subtree(role, rel):
    return 200 if rel in ("own", "child") else 404


def _resident_page(role, rel):
    if role in MANAGERS:
        return _in_subtree(role, rel)
    if role == "field_member":
        # Own unit = the commune itself (not an assigned hamlet); child = the assigned hamlet.
        return 200 if rel == "child" else 404
    return 404


def _resident_list(role, rel):
    return _in_subtree(role, rel) if role in MANAGERS else 404


# Routes taking a unit, resident or household: name -> (role, relation) -> status.
EXPECTED_SCOPED = {
    "reports:kpi_unit": _in_subtree,
    "api:unit_kpi": _in_subtree,
    "people:detail": _resident_page,
    "people:list?unit": _resident_list,
}
# Routes without such a parameter: name -> role -> status.
EXPECTED_PLAIN = {
    "reports:kpi": lambda role: 200,
    "accounts:login": lambda role: 302,  # a logged-in user is sent on
    "accounts:logout": lambda role: 405,  # POST only
    "accounts:password_change": lambda role: 200,
    "accounts:password_change_done": lambda role: 200,
    "accounts:people": lambda role: 200 if role in MANAGERS else 404,
    "accounts:audit": lambda role: 200 if role == "province_admin" else 404,
    "accounts:audit_export": lambda role: 200 if role == "province_admin" else 404,
    "people:list": lambda role: 200 if role in MANAGERS else 404,
    "fieldwork:today": lambda role: 200 if role in MANAGERS else 404,
    "api:me": lambda role: 200,
    "api:openapi-json": lambda role: 200,
    "api:token_obtain": lambda role: 405,  # POST only
    "api:token_revoke_current": lambda role: 405,  # POST only
    "api:root": lambda role: 404,
    "api:not_found": lambda role: 404,
}
EXPECTED_ANONYMOUS = {
    "accounts:login": 200,
    "accounts:code": 200,  # the first login with a login card's one-time code
    "accounts:logout": 405,
    "api:openapi-json": 200,
    "api:token_obtain": 405,
    "api:token_revoke_current": 405,
    "api:root": 404,
    "api:not_found": 404,
}


# ----------------------------------------------------------------------------------- the world


def _unit(code, name, level, parent):
    path = f"{parent.path if parent else ''}{code}/"
    return AdminUnit.objects.create(
        edition=2023,
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=path,
        depth=path.count("/") - 1,
        province_code=code[:2],
        name_key=key(name),
    )


_GIVEN = itertools.cycle(
    [
        "Khuê",
        "Lạc",
        "Miên",
        "Nhạn",
        "Oanh",
        "Phấn",
        "Quỳnh",
        "Sương",
        "Thắm",
        "Uyên",
        "Vỹ",
        "Xuyến",
        "Yến",
        "Giao",
        "Hạnh",
        "Kiều",
    ]
)


class World:
    """The tree of conftest plus a second province, one household and one resident directly
    in every unit (each with a unique name, ID and phone), and the personas."""

    def __init__(self, tree, alice, dan, bob, vy):
        self.tree = tree
        self.province2 = _unit("70", "Tỉnh Bình Phước", "province", None)
        self.district3 = _unit("689", "Thành phố Đồng Xoài", "district", self.province2)
        self.commune3 = _unit("25195", "Phường Tân Phú", "commune", self.district3)
        units = [
            tree.province,
            tree.district,
            tree.district2,
            tree.xa_a,
            tree.xa_b,
            tree.xa_c,
            tree.kp1,
            tree.kp2,
            tree.b_kp1,
            self.province2,
            self.district3,
            self.commune3,
        ]
        self.resident = {}
        self.household = {}
        for i, unit in enumerate(units):
            home = Household.objects.create(
                unit=unit, address=f"Số {i + 1} Đường Thử", province_code=unit.province_code
            )
            self.household[unit.pk] = home
            self.resident[unit.pk] = make_resident(
                unit,
                name=f"Đinh Thị {next(_GIVEN)} Ma Trận",
                household=home,
                phone=f"0{386000000 + 1111 * (i + 1)}",
                sex="F",
            )
        viewer = User.objects.create_user(
            "vic", password="pw-vic-2026", role="viewer", unit=tree.district
        )
        self.personas = {
            "province_admin": (
                alice,
                {
                    "own": tree.province,
                    "child": tree.district,
                    "sibling": self.province2,
                    "parent": None,
                },
            ),
            "district_manager": (
                dan,
                {
                    "own": tree.district,
                    "child": tree.xa_a,
                    "sibling": tree.district2,
                    "parent": tree.province,
                },
            ),
            "commune_manager": (
                bob,
                {
                    "own": tree.xa_a,
                    "child": tree.kp1,
                    "sibling": tree.xa_b,
                    "parent": tree.district,
                },
            ),
            "field_member": (
                vy,
                {
                    "own": tree.xa_a,
                    "child": tree.kp1,
                    "sibling": tree.xa_b,
                    "parent": tree.district,
                },
            ),
            "viewer": (
                viewer,
                {
                    "own": tree.district,
                    "child": tree.xa_a,
                    "sibling": tree.district2,
                    "parent": tree.province,
                },
            ),
        }

    def foreign_secrets(self, user) -> list[str]:
        """Name, ID and phone of every resident the user may not see."""
        visible = set(records.residents_for_user(user).values_list("pk", flat=True))
        return [
            value
            for r in self.resident.values()
            if r.pk not in visible
            for value in (r.full_name, r.national_id, r.phone)
        ]

    def all_secrets(self) -> list[str]:
        return [v for r in self.resident.values() for v in (r.full_name, r.national_id, r.phone)]


@pytest.fixture
def world(tree, alice, dan, bob, vy):
    return World(tree, alice, dan, bob, vy)


# ------------------------------------------------------------------------------ route discovery


def _routes():
    """(qualified name, {param: converter or None}) for every named URL pattern."""
    found = []

    def walk(patterns, namespace, inherited):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if ns in SKIPPED_NAMESPACES:
                    continue
                params = {**inherited, **_params(p.pattern)}
                walk(p.url_patterns, ns, params)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
                found.append((name, {**inherited, **_params(p.pattern)}))

    walk(get_resolver().url_patterns, "", {})
    return found


def _params(pattern):
    converters = getattr(pattern, "converters", None) or {}
    names = set(converters) | set(pattern.regex.groupindex)
    return {name: converters.get(name) for name in names}


SCOPED_PARAMS = {"edition", "code", "unit_code", "unit_id", "resident_id", "household_id"}


def _value(name, route, param, converter, unit, world):
    """The value of a parameter for a scenario on `unit`; None when the parameter is unknown."""
    if param == "edition":
        return unit.edition
    if param in ("code", "unit_code"):
        return unit.code
    if param == "unit_id":
        return unit.pk
    if param == "resident_id" or (param == "pk" and name.startswith("people:")):
        return world.resident[unit.pk].pk
    if param == "household_id":
        return world.household[unit.pk].pk
    return None


def _placeholder(converter):
    kind = type(converter).__name__ if converter else ""
    if kind == "IntConverter":
        return 999999
    if kind == "UUIDConverter":
        return uuid.UUID(int=0)
    return "nope"


def _scoped(name, params):
    return bool(params) and all(
        p in SCOPED_PARAMS or (p == "pk" and name.startswith("people:")) for p in params
    )


def _urls(name, params, unit, world):
    """The URL of a route for a scenario (None when it cannot be built)."""
    kwargs = {}
    for param, converter in params.items():
        value = _value(name, None, param, converter, unit, world) if unit else None
        kwargs[param] = value if value is not None else _placeholder(converter)
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


# ------------------------------------------------------------------------------------ requests


def _get(client, url, user):
    headers = {}
    if url.startswith("/api/"):
        client.logout()
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = (
                f"Bearer {token_create(user=user, campaign_deadline=None)[1]}"
            )
    elif user is not None:
        client.force_login(user)
    else:
        client.logout()
    response = client.get(url, **headers)
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return response, body.decode("utf-8", "replace")


def _assert_not_cached(response, where):
    """Every answer to an authenticated user (pages, print-outs, files, the API) is no-store."""
    assert "no-store" in response.get("Cache-Control", ""), f"{where}: cacheable"


def _assert_no_leak(body, secrets, where):
    leaked = [s for s in secrets if s and s in body]
    assert not leaked, f"{where}: foreign personal data in the body: {leaked}"


def _anonymous_ok(client, name, url, response):
    expected = EXPECTED_ANONYMOUS.get(name)
    if expected is not None:
        return response.status_code == expected
    if url.startswith("/api/"):
        return response.status_code in (401, 404, 405)
    if response.status_code == 302 and not response["Location"].startswith("/accounts/login/"):
        # A redirect elsewhere (e.g. /fieldwork/ → /fieldwork/worklist/) must end at the login.
        followed = client.get(url, follow=True)
        chain = [hop for hop, _ in followed.redirect_chain]
        return bool(chain) and chain[-1].startswith("/accounts/login/")
    if response.status_code == 302:
        return True
    return response.status_code in (404, 405)


# ---------------------------------------------------------------------------------------- tests


def test_it_discovers_the_routes_it_knows(world):
    names = {name for name, _ in _routes()}
    known = (set(EXPECTED_SCOPED) - {"people:list?unit"}) | set(EXPECTED_PLAIN)
    assert known <= names, known - names


def test_it_keeps_anonymous_users_out_of_every_route(client, world):
    secrets = world.all_secrets()
    for name, params in _routes():
        url = _urls(name, params, world.tree.xa_a, world)
        if url is None:
            continue
        response, body = _get(client, url, None)
        assert response.status_code < 500, f"{name} {url}: {response.status_code}"
        assert _anonymous_ok(client, name, url, response), f"{name} {url}: {response.status_code}"
        if name not in PUBLIC:
            _assert_no_leak(body, secrets, f"anonymous {url}")


@pytest.mark.parametrize(
    "role", ["province_admin", "district_manager", "commune_manager", "field_member", "viewer"]
)
def test_it_answers_each_role_by_the_matrix(client, world, role):
    user, relations = world.personas[role]
    secrets = world.foreign_secrets(user)
    checked = 0
    for name, params in _routes():
        if _scoped(name, params):
            for rel in RELATIONS:
                unit = relations[rel]
                if unit is None:
                    continue
                url = _urls(name, params, unit, world)
                if url is None:
                    continue
                response, body = _get(client, url, user)
                where = f"{role} {rel} {name} {url}"
                status = response.status_code
                assert status < 500, f"{where}: {status}"
                _assert_not_cached(response, where)
                if name in EXPECTED_SCOPED:
                    assert status == EXPECTED_SCOPED[name](role, rel), f"{where}: {status}"
                elif rel in ("sibling", "parent"):
                    assert status != 200, f"{where}: 200 for a unit outside the jurisdiction"
                _assert_no_leak(body, secrets, where)
                checked += 1
        else:
            url = _urls(name, params, relations["own"], world)
            if url is None:
                continue
            response, body = _get(client, url, user)
            where = f"{role} {name} {url}"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            _assert_not_cached(response, where)
            if name in EXPECTED_PLAIN:
                assert response.status_code == EXPECTED_PLAIN[name](role), (
                    f"{where}: {response.status_code}"
                )
            _assert_no_leak(body, secrets, where)
            checked += 1
    # The resident list narrowed to a unit (?unit=CODE) is scoped too.
    for rel in RELATIONS:
        unit = relations[rel]
        if unit is None:
            continue
        url = f"{reverse('people:list')}?unit={unit.code}"
        response, body = _get(client, url, user)
        where = f"{role} {rel} {url}"
        assert response.status_code == _resident_list(role, rel), f"{where}: {response.status_code}"
        _assert_no_leak(body, secrets, where)
    assert checked >= 20


def test_it_never_leaks_through_a_resident_search(client, world):
    user, _ = world.personas["commune_manager"]
    client.force_login(user)
    for resident in world.resident.values():
        if resident in records.residents_for_user(user):
            continue
        for query in (resident.national_id, resident.full_name, resident.phone):
            body = client.get(reverse("people:list"), {"q": query}).content.decode()
            # The box shows back what was typed; nothing else of the person may appear, and
            # the answer is the one a number that exists nowhere gets.
            others = {resident.full_name, resident.national_id, resident.phone} - {query}
            _assert_no_leak(body, sorted(others), f"search {query!r}")
            assert "Không tìm thấy công dân nào" in body
