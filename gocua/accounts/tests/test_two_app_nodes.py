"""Two app nodes, one database: `gocua serve --no-worker` twice, on two ports, each with its own
folder and processes, as two machines behind a load balancer would run. A session opened on
one is honoured by the other, and a lockout counts the failures made on both: sessions and
login throttling live in the database, nothing in a node's memory or on its disk."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]
GOCUA = str(Path(sys.executable).parent / "gocua")
LIMIT = 3  # failed logins of one name from one address before it is locked out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_env() -> dict[str, str]:
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"GOCUA_SQLITE_PATH": database["NAME"]}
    return {
        "DATABASE_URL": f"postgres://{database['USER'] or 'postgres'}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    }


@pytest.fixture
def nodes(transactional_db, tmp_path):
    """The base URLs of two running nodes on the test database."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GOCUA_", "DATABASE_"))}
    started = []
    for name in ("a", "b"):
        port = _free_port()
        env = {
            **base,
            **_database_env(),
            "GOCUA_VAR_DIR": str(tmp_path / name),  # its own disk: static files, no secret key
            "GOCUA_SECRET_KEY": settings.SECRET_KEY,
            "GOCUA_LOGIN_FAILURE_LIMIT": str(LIMIT),
            "PYTHONPATH": str(ROOT),
        }
        server = subprocess.Popen(
            [GOCUA, "serve", "--no-worker", "--workers", "1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.append((server, f"http://127.0.0.1:{port}"))
    try:
        for server, url in started:
            _wait_for(server, url)
        yield [url for _server, url in started]
    finally:
        for server, _url in started:
            os.killpg(server.pid, signal.SIGTERM)
        for server, _url in started:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a busy machine: the test is not about stopping
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)


def _wait_for(server: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, f"the node at {url} stopped ({server.returncode})"
        try:
            urllib.request.urlopen(url + "/accounts/login/", timeout=5).close()
            return
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, f"the node at {url} did not answer"
            time.sleep(0.1)


class Browser:
    """One person's browser: its cookies go to whichever node the load balancer picks (cookies
    belong to the host name, not the port)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, url: str) -> tuple[int, str, str]:
        try:
            with self.opener.open(url, timeout=30) as answer:
                return answer.status, answer.url, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, url, error.read().decode()

    def log_in(self, node: str, username: str, password: str) -> tuple[int, str, str]:
        _status, _url, form = self.get(node + "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token, form[:500]
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token[1], "username": username, "password": password}
        ).encode()
        request = urllib.request.Request(
            node + "/accounts/login/", data=body, headers={"Referer": node + "/accounts/login/"}
        )
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.url, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, node, error.read().decode()


def test_a_session_and_a_lockout_span_two_app_nodes(nodes, tree, settings):
    from gocua.accounts.models import User

    # The nodes hash with Argon2 (the tests' MD5 is unknown to them).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    for name in ("bob", "binh"):
        User.objects.create_user(
            username=name, password="pw-" + name + "-2026", role="unit_manager", unit=tree.xa_a
        )
    a, b = nodes

    officer = Browser()
    status, landed, _page = officer.log_in(a, "bob", "pw-bob-2026")
    assert status == 200 and not landed.endswith("/accounts/login/")
    status, landed, page = officer.get(b + "/accounts/password/")
    assert (status, landed) == (200, b + "/accounts/password/"), page[:300]
    assert "bob" in page

    guesser = Browser()
    for node in (a, b, a)[: LIMIT - 1]:
        status, _landed, _page = guesser.log_in(node, "binh", "wrong-password")
        assert status == 200
    status, _landed, _page = guesser.log_in(b, "binh", "wrong-password")
    assert status == 429  # the third failure, made on the other node, locks the name out
    status, _landed, page = guesser.log_in(a, "binh", "pw-binh-2026")
    assert status == 429 and "15 phút" in page
