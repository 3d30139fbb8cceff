"""/field/ (the shell), its service worker and manifest, and POST /api/v1/field/token."""

import json
import re

import pytest
from django.test import Client

from gocua.field import views


@pytest.fixture
def phone(vy):
    browser = Client()
    browser.force_login(vy)
    return browser


def test_it_sends_anonymous_users_to_the_login_page(client, db):
    for path in ("/field/", "/field/sw.js", "/field/manifest.webmanifest"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next=")


def test_it_serves_the_shell_without_inline_script_or_style(phone):
    response = phone.get("/field/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert 'lang="vi"' in html
    assert " style=" not in html and "<style" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="' in tag or 'type="application/json"' in tag, tag
    strings = json.loads(re.search(r'id="field-strings"[^>]*>(.*?)</script>', html, re.S)[1])
    assert ["not_home", "Không có nhà"] in strings["outcomes"]
    assert strings["gaps"]["not_activated"] == "Chưa kích hoạt"
    # The shell is the same for everybody (the service worker keeps it): no personal data.
    assert "Lê Thị Vy" not in html and "vy" not in re.sub(r"[a-z]*vy[a-z]*", "", html.lower())
    # A volunteer's help names no command: accounts come from their manager's login cards,
    # and the page links back to the web pages they may open.
    assert "gocua " not in html and "--role" not in html
    assert 'href="/fieldwork/worklist/"' in html and 'href="/accounts/password/"' in html


def test_it_serves_a_service_worker_scoped_to_the_page(phone):
    response = phone.get("/field/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    script = response.content.decode()
    assert views.shell_version() in script and "__VERSION__" not in script
    assert '"/field/", "/static/field/app.js"' in script


def test_it_changes_the_version_when_a_shell_file_changes(monkeypatch, tmp_path):
    for name in (*views.SHELL_FILES, "sw.js"):
        (tmp_path / name).write_bytes((views.STATIC_DIR / name).read_bytes())
    monkeypatch.setattr(views, "STATIC_DIR", tmp_path)
    views.shell_version.cache_clear()
    before = views.shell_version()
    (tmp_path / "app.js").write_text("// new")
    views.shell_version.cache_clear()
    assert views.shell_version() != before
    views.shell_version.cache_clear()


def test_it_serves_an_installable_manifest(phone):
    response = phone.get("/field/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/field/",
        "/field/",
        "standalone",
    )
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}


def test_it_ships_every_shell_file(db):
    for name in (*views.SHELL_FILES, "sw.js"):
        assert (views.STATIC_DIR / name).stat().st_size > 0, name


def test_it_trades_the_session_for_a_bearer_token(vy):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(vy)
    browser.get("/field/")  # sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    response = browser.post("/api/v1/field/token", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200
    token = response.json()["token"]
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.json()["username"] == "vy"
    from gocua.accounts.models import ApiToken

    assert ApiToken.objects.get(user=vy).label == "field page"


def test_it_needs_the_csrf_header_and_a_session_for_the_token(vy, token_for):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(vy)
    assert browser.post("/api/v1/field/token").status_code == 403
    bearer = Client().post("/api/v1/field/token", HTTP_AUTHORIZATION=f"Bearer {token_for(vy)}")
    assert bearer.status_code == 401


def test_it_serves_a_member_made_on_the_command_line(client, tree, campaign, homes, monkeypatch):
    """`gocua user create … --role field_member --hamlets …` is all a commune needs."""
    import io

    from django.core.management import call_command

    monkeypatch.setattr("sys.stdin", io.StringIO("Rasoat-2026-mai\n"))
    call_command(
        "user",
        "create",
        "mai",
        "--role",
        "field_member",
        "--unit",
        "25456",
        "--hamlets",
        "Khu phố 1",
        "--password-stdin",
        stdout=io.StringIO(),
    )
    token = client.post(
        "/api/v1/auth/token",
        {"username": "mai", "password": "Rasoat-2026-mai"},
        content_type="application/json",
    ).json()["token"]
    body = client.get("/api/v1/worklist", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert {h["id"] for h in body["households"]} == {homes.h1.pk, homes.h2.pk}
