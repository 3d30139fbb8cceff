"""The security baseline: settings from the environment, headers, CSP-clean templates."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def load_settings(tmp_path, **env):
    code = (
        "import json, gocua.settings as s; print(json.dumps({k: getattr(s, k) for k in ("
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_HTTPONLY', 'SECRET_KEY', 'PASSWORD_HASHERS')}))"
    )
    base = {"PATH": "/usr/bin:/bin", "GOCUA_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True, text=True
    )


def test_it_keeps_debug_off_unless_asked(tmp_path):
    off = json.loads(load_settings(tmp_path).stdout)
    assert off["DEBUG"] is False
    assert json.loads(load_settings(tmp_path, GOCUA_DEBUG="1").stdout)["DEBUG"] is True
    assert load_settings(tmp_path, GOCUA_DEBUG="maybe").returncode != 0


def test_it_uses_secure_cookies_and_hsts_over_https(tmp_path):
    plain = json.loads(load_settings(tmp_path).stdout)
    assert not plain["SESSION_COOKIE_SECURE"] and plain["SESSION_COOKIE_HTTPONLY"]
    https = json.loads(
        load_settings(tmp_path, GOCUA_HTTPS="1", GOCUA_TRUSTED_PROXY_COUNT="1").stdout
    )
    assert https["SESSION_COOKIE_SECURE"] and https["CSRF_COOKIE_SECURE"]
    assert https["SECURE_SSL_REDIRECT"] and https["SECURE_HSTS_SECONDS"] >= 31536000


def test_it_refuses_https_without_saying_how_many_proxies_to_trust(tmp_path):
    """Behind a TLS proxy the client's address comes from X-Forwarded-For: without the count
    of trusted proxies every client would share the proxy's address and its lockouts."""
    result = load_settings(tmp_path, GOCUA_HTTPS="1")
    assert result.returncode != 0 and "GOCUA_TRUSTED_PROXY_COUNT" in result.stderr
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "gocua"), "units", "list"],
        env={**os.environ, "GOCUA_HTTPS": "1", "GOCUA_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2
    assert cli.stderr.startswith("gocua: GOCUA_HTTPS=1") and "Traceback" not in cli.stderr
    assert len(cli.stderr.strip().splitlines()) == 1


def test_it_takes_the_secret_key_from_the_environment_with_a_server_database(tmp_path):
    result = load_settings(tmp_path, DATABASE_URL="postgres://u:p@db/gocua")
    assert result.returncode != 0 and "GOCUA_SECRET_KEY must be set" in result.stderr
    keyed = load_settings(
        tmp_path, DATABASE_URL="postgres://u:p@db/gocua", GOCUA_SECRET_KEY="from-env"
    )
    assert json.loads(keyed.stdout)["SECRET_KEY"] == "from-env"


def test_it_makes_a_random_demo_key_outside_the_code(tmp_path):
    first = json.loads(load_settings(tmp_path).stdout)["SECRET_KEY"]
    assert len(first) >= 50 and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert json.loads(load_settings(tmp_path).stdout)["SECRET_KEY"] == first
    source = (ROOT / "gocua" / "settings.py").read_text()
    assert first not in source


def test_it_hashes_passwords_with_argon2(tmp_path):
    hashers = json.loads(load_settings(tmp_path).stdout)["PASSWORD_HASHERS"]
    assert hashers[0].endswith("Argon2PasswordHasher")


def test_it_sends_a_strict_content_security_policy(client, bob):
    client.force_login(bob)
    for url in ("/", "/accounts/login/", "/api/v1/openapi.json"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in response.headers["Permissions-Policy"]


def template_files() -> list[Path]:
    dirs = [ROOT / "gocua" / "templates", *(ROOT / "gocua").glob("*/templates")]
    return sorted(p for d in dirs if d.is_dir() for p in d.rglob("*.html"))


INLINE = [
    (
        re.compile(
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I
        ),
        "inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_it_has_no_inline_script_or_style_in_templates(path):
    text = path.read_text(encoding="utf-8")
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{path}: {', '.join(found)} (the CSP blocks these; use a static file)"


def test_it_answers_404_with_a_page_that_gives_nothing_away(client, bob):
    client.force_login(bob)
    response = client.get("/residents/424242/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "ngoài phạm vi" in page and "Traceback" not in page and "424242" not in page
