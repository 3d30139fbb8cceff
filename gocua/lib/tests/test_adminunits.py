import subprocess
import sys

from gocua.lib import adminunits


def test_it_reads_the_same_rows_as_the_library_s_own_query():
    from vietnamadminunits.database import query

    sql = "SELECT * FROM admin_units WHERE provinceCode = '80' ORDER BY wardCode"
    assert adminunits.query(sql) == query(sql)
    assert len(adminunits.query(sql)) == 96  # Tây Ninh, 2025 edition


def test_the_national_id_rules_load_without_the_library_s_address_parsers():
    # The parsers (geopy, shapely, regexes over every ward) cost every `gocua` command 0.8 s.
    code = (
        "import sys; from gocua.lib import nid; nid.normalize('072090001234'); "
        "print(sorted(m for m in sys.modules if m.startswith(('vietnamadminunits', 'geopy'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_data_commands_run_every_system_check_but_the_url_ones():
    from django.core.checks import Tags
    from django.core.management import load_command_class

    from gocua.lib.cli import DATA_COMMAND_CHECKS

    assert Tags.urls not in DATA_COMMAND_CHECKS
    assert {Tags.models, Tags.security, Tags.templates} <= set(DATA_COMMAND_CHECKS)
    for app, name in [
        ("gocua.imports", "import"),
        ("gocua.reports", "report"),
        ("gocua.geo", "units"),
        ("gocua.reports", "rollup"),
        ("gocua.accounts", "user"),
        ("gocua.synthetic", "generate"),
    ]:
        assert load_command_class(app, name).requires_system_checks == DATA_COMMAND_CHECKS
    assert load_command_class("gocua.api", "serve").requires_system_checks == "__all__"
