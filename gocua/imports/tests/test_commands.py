"""The CLI contract: --json on stdout only, exit status 2 for unreadable files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gocua.imports.tests.conftest import AN, BINH

pytestmark = pytest.mark.django_db
GOCUA = str(Path(sys.executable).parent / "gocua")


def test_import_citizens_json_prints_one_object(tay_ninh, write_csv, capsys):
    call_command("import", "citizens", write_csv([AN, BINH]), "--json", "--edition", "2023")
    out = capsys.readouterr().out
    assert json.loads(out) == {
        "rows": 2,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "warnings": 0,
        "rejects_file": None,
    }


def test_import_stages_json_has_stale(tay_ninh, write_csv, capsys):
    call_command("import", "citizens", write_csv([AN]), "--json")
    capsys.readouterr()
    path = write_csv([[AN[0], "registered"]], header=["national_id", "eid_stage"], name="s.csv")
    call_command("import", "stages", path, "--json")
    summary = json.loads(capsys.readouterr().out)
    assert summary["stale"] == 0 and summary["updated"] == 1


def test_an_unreadable_file_stops_with_status_2(tay_ninh, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("import", "citizens", str(tmp_path / "missing.csv"))
    assert error.value.returncode == 2 and "không có tệp này" in str(error.value)


def test_both_editions_loaded_and_none_named_stops_with_a_clear_message(tay_ninh, write_csv):
    from gocua.geo.services import units_load

    units_load(province_code="80", edition=2025)
    with pytest.raises(CommandError, match="say which with --edition") as error:
        call_command("import", "citizens", write_csv([AN]))
    assert error.value.returncode == 2


def test_units_list_json(tay_ninh, capsys):
    call_command("units", "list", "--parent", "703", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["units"][0] == {
        "code": "25456",
        "name": "Phường 1",
        "level": "commune",
        "parent": "703",
    }


def test_the_gocua_binary_keeps_stdout_for_json_and_exits_2_on_bad_files(tmp_path, write_csv):
    """Runs the real console script on its own SQLite file (not the test database)."""
    env = {
        **os.environ,
        "GOCUA_SQLITE_PATH": str(tmp_path / "cli.sqlite3"),
        "GOCUA_SECRET_KEY": "cli-test",
    }
    env.pop("DATABASE_URL", None)

    def gocua(*args):
        return subprocess.run([GOCUA, *args], env=env, capture_output=True, text=True, timeout=120)

    assert gocua("migrate", "--no-input").returncode == 0
    assert gocua("units", "load", "--province", "72", "--edition", "2023").returncode == 0
    bad_phone = [*AN[:4], "0111222333", *AN[5:]]
    done = gocua("import", "citizens", write_csv([bad_phone, BINH]), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["warnings"] == 1  # stdout is exactly one JSON object
    assert "072******234" in done.stderr and AN[0] not in done.stderr
    assert "0111222333" not in done.stderr
    missing = gocua("import", "citizens", str(tmp_path / "nope.xlsx"), "--json")
    assert missing.returncode == 2 and missing.stdout == "" and "không có tệp này" in missing.stderr
    assert "Traceback" not in missing.stderr
    kpi = gocua("report", "kpi", "--unit", "25456", "--format", "json")
    rows = json.loads(kpi.stdout)["rows"]
    assert rows[0]["unit_code"] == "25456" and rows[0]["eligible"] == 2
