"""`gocua`: a thin front over the Django management commands.

`gocua units load ...` runs the `units` command with `load ...`; `gocua serve` runs `serve`.
"""

import os
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line
from django.db import OperationalError, ProgrammingError


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gocua.settings")

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings: a bad environment stops here
    except ImproperlyConfigured as exc:
        # One line saying what to set, never a traceback (Django's own runner would swallow
        # the error and fail later with a less helpful one).
        sys.stderr.write(f"gocua: {exc}\n")
        raise SystemExit(2) from None

    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(
            "usage: gocua {migrate,units,generate,import,report,user,rollup,serve,backup,restore} ...\n"
            "  gocua migrate\n"
            "  gocua units load --province CODE --edition 2023|2025\n"
            "  gocua units list [--edition E] [--parent CODE] [--json]\n"
            "  gocua generate --province CODE --edition E --people N --seed S\n"
            "  gocua import citizens|stages PATH [--edition E] [--dry-run] [--rejects PATH] [--json]\n"
            "  gocua report kpi [--unit CODE] [--depth N] [--format table|json|csv|xlsx]\n"
            "  gocua user create NAME --role ROLE --unit CODE [--hamlets all|NAME,NAME]\n"
            "  gocua serve [--host 127.0.0.1] [--port 8000]\n"
            "  gocua backup PATH          (SQLite; PostgreSQL: pgBackRest, docs/backups.md)\n"
            "  gocua restore PATH [--force]\n"
            "Each command answers --help. The command line has no user account: it acts with\n"
            "the whole installation's authority, and the audit log names the operating-system\n"
            "user who ran it (cli:<name>)."
        )
        return

    try:
        execute_from_command_line(["gocua", *args])
    except (OperationalError, ProgrammingError) as exc:
        # The two mistakes of a new installation, said in one line: a database that cannot be
        # reached, and one that was never migrated.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "no such table" in first or ("relation" in first and "does not exist" in first):
            sys.stderr.write("gocua: the database has no tables yet: run `gocua migrate`\n")
        else:
            sys.stderr.write(f"gocua: cannot use the database: {first}\n")
        raise SystemExit(2) from None
