"""`gocua user create`."""

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gocua.accounts.models import User
from gocua.campaigns.models import Assignment
from gocua.geo.models import AdminUnit

PASSWORD = "cửa-sổ-xanh-2026"


def run(*args, stdin=PASSWORD + "\n"):
    out = io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command("user", "create", *args, stdout=out)
    finally:
        sys.stdin = old
    return out.getvalue()


def test_it_creates_a_unit_manager_with_the_password_from_stdin(tree):
    out = run(
        "hoa",
        "--role",
        "unit_manager",
        "--unit",
        "25456",
        "--password-stdin",
        "--full-name",
        "Nguyễn Thị Hoa",
    )
    assert "created hoa (unit_manager) in Phường 1 (25456, 2023)" in out
    user = User.objects.get(username="hoa")
    assert user.check_password(PASSWORD) and user.unit == tree.xa_a


def test_it_assigns_hamlets_to_a_field_member(tree, vy):
    run(
        "tu",
        "--role",
        "field_member",
        "--unit",
        "25456",
        "--hamlets",
        "Khu phố 1, khu pho 2",
        "--password-stdin",
        "--affiliation",
        "youth_union",
    )
    hamlets = {a.hamlet for a in Assignment.objects.filter(member__user__username="tu")}
    assert hamlets == {tree.kp1, tree.kp2}


def test_it_stops_with_exit_2_on_an_unknown_unit(tree):
    with pytest.raises(CommandError, match="no unit with code 99999") as exc:
        run("hoa", "--role", "viewer", "--unit", "99999", "--password-stdin")
    assert exc.value.returncode == 2


def test_it_stops_with_exit_2_when_both_editions_are_loaded_without_edition(tree):
    AdminUnit.objects.create(
        edition=2025,
        code="80",
        name="Tỉnh Tây Ninh",
        level="province",
        path="80/",
        depth=0,
        province_code="80",
        name_key="tinhtayninh",
    )
    with pytest.raises(CommandError, match="--edition") as exc:
        run("hoa", "--role", "viewer", "--unit", "72", "--password-stdin")
    assert exc.value.returncode == 2
    run("hoa", "--role", "viewer", "--unit", "80", "--edition", "2025", "--password-stdin")
    assert User.objects.get(username="hoa").unit.edition == 2025


def test_it_stops_with_exit_2_on_a_service_error(tree):
    with pytest.raises(CommandError, match="belongs to a commune") as exc:
        run("tu", "--role", "field_member", "--unit", "72", "--password-stdin")
    assert exc.value.returncode == 2


def test_it_stops_when_stdin_has_no_password(tree):
    with pytest.raises(CommandError, match="no password on stdin"):
        run("hoa", "--role", "viewer", "--unit", "72", "--password-stdin", stdin="")


def test_it_refuses_to_prompt_without_a_terminal(tree):
    with pytest.raises(CommandError, match="--password-stdin"):
        run("hoa", "--role", "viewer", "--unit", "72")


def test_it_prints_a_message_without_traceback_from_the_cli(tmp_path):
    env = {
        "GOCUA_SECRET_KEY": "t",
        "GOCUA_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "",
    }
    gocua = [sys.executable, "-c", "from gocua.cli import main; main()"]
    subprocess.run([*gocua, "migrate", "-v", "0"], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [*gocua, "user", "create", "hoa", "--role", "viewer", "--unit", "72", "--password-stdin"],
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "no units are loaded" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["bad name", "a/b", "ng<script>", "x" * 151, "tên;rm"])
def test_it_validates_the_user_name_as_the_web_does(tree, name):
    with pytest.raises(CommandError, match="user name"):
        run(name, "--role", "viewer", "--unit", "25456", "--password-stdin")
    assert not User.objects.filter(username=name).exists()


def test_it_acts_with_the_installations_authority_in_the_audit_log(tree, monkeypatch):
    from gocua.accounts.models import AuditEntry

    monkeypatch.setattr("getpass.getuser", lambda: "quantri")
    run("hoa", "--role", "viewer", "--unit", "25456", "--password-stdin")
    entry = AuditEntry.objects.get(action="create", object_type="user")
    assert entry.username == "cli:quantri" and entry.detail["authority"] == "installation"
