import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from gocua.accounts.services import audit_record
from gocua.geo.cli import edition_or_stop
from gocua.geo.models import AdminUnit
from gocua.geo.selectors import EditionError, top_units, unit_get, units_in_subtree
from gocua.lib.cli import DATA_COMMAND_CHECKS, print_json
from gocua.lib.spreadsheet import csv_writer
from gocua.reports import rollups
from gocua.reports.exports import (
    committee_csv,
    committee_xlsx,
    snapshot_csv,
    snapshot_rows,
    snapshot_xlsx,
)
from gocua.reports.selectors import EXTRA_FIELDS, KPI_FIELDS, kpi_rows, min_age_now


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = (
        "Reports. `report kpi`: registration, activation and usage for a unit and its children "
        "(--format xlsx: the People's Committee report, one sheet per level); `report committee`: "
        "that report as XLSX or CSV; `report snapshot`: daily rows for a date range."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="report", required=True)
        kpi = sub.add_parser("kpi", help="KPI rows of a unit and its descendants")
        committee = sub.add_parser("committee", help="the People's Committee report")
        snapshot = sub.add_parser("snapshot", help="daily KPI rows for a date range")
        for p in (kpi, committee, snapshot):
            p.add_argument("--unit", help="unit code (default: the province)")
            p.add_argument("--edition", type=int, choices=[2023, 2025])
            p.add_argument("--depth", type=int, default=1, help="levels below the unit (default 1)")
        kpi.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table")
        kpi.add_argument("--output", help="write to this file (required for xlsx)")
        committee.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        committee.add_argument("--output", required=True, help="write to this file")
        snapshot.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD")
        snapshot.add_argument("--to", dest="last", help="YYYY-MM-DD (default: today)")
        snapshot.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        snapshot.add_argument("--output", help="write to this file (required for xlsx)")

    def handle(self, *args, **options):
        edition = edition_or_stop(options["edition"])
        unit = self.unit_named(edition, options["unit"])
        if options["depth"] < 0:
            raise CommandError("--depth must be 0 or more", returncode=2)
        # Recorded like the page's downloads, as the command line (no user).
        audit_record(
            user=None,
            command_line=True,
            action="export",
            object_type="daily_snapshot" if options["report"] == "snapshot" else "kpi_report",
            object_id=unit.code,
            unit=unit,
            detail={
                "format": options["format"],
                "report": options["report"],
                "to_file": bool(options["output"]),
            },
        )
        if options["report"] == "snapshot":
            return self.snapshot(unit, options)
        rows = kpi_rows(unit, depth=options["depth"], min_age=min_age_now())
        fmt, output = options["format"], options["output"]
        today = rollups.today()
        if options["report"] == "committee" and fmt == "csv":
            with open(output, "w", encoding="utf-8", newline="") as stream:
                committee_csv(rows, stream, unit=unit)
            self.stderr.write(f"wrote {output}")
            return
        if fmt == "xlsx":
            if not output:
                raise CommandError("--format xlsx needs --output PATH", returncode=2)
            committee_xlsx(rows, output, unit=unit, on=today)
            self.stderr.write(f"wrote {output}")
            return
        stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            _kpi_write(
                rows,
                stream,
                fmt,
                data={"unit": unit.code, "edition": edition},
                to_file=bool(output),
            )
        finally:
            if output:
                stream.close()

    def unit_named(self, edition: int, code: str | None) -> AdminUnit:
        """The unit named on the command line, or the edition's top unit."""
        unit: AdminUnit | None
        try:
            if code:
                unit = unit_get(edition=edition, code=code)
            else:
                unit = top_units(edition).first()
        except EditionError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if unit is None:
            raise CommandError("no units are loaded", returncode=2)
        return unit

    def snapshot(self, unit: AdminUnit, options: dict) -> None:

        try:
            first = dt.date.fromisoformat(options["first"])
            last = dt.date.fromisoformat(options["last"]) if options["last"] else rollups.today()
        except ValueError as exc:
            raise CommandError(f"--from/--to: {exc}", returncode=2) from None
        if last < first:
            raise CommandError("--to is before --from", returncode=2)
        if rollups.rollup_state() is None:
            raise CommandError("rollups are not built: run gocua rollup rebuild", returncode=2)
        units = list(
            units_in_subtree(unit).filter(depth__lte=unit.depth + options["depth"]).order_by("path")
        )
        rows = snapshot_rows(units, first, last)
        output = options["output"]
        if options["format"] == "xlsx":
            if not output:
                raise CommandError("--format xlsx needs --output PATH", returncode=2)
            snapshot_xlsx(rows, output)
            self.stderr.write(f"wrote {output}")
            return
        if output:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                snapshot_csv(rows, stream)
        else:
            snapshot_csv(rows, sys.stdout)


def _table(rows: list[dict]) -> str:
    lines = [
        f"{'code':<12} {'name':<32} {'eligible':>9} {'reg %':>7} {'act %':>7} {'used %':>7} "
        f"{'act need/d':>10} {'act 7d/d':>9} {'status':<10}"
    ]
    for r in rows:
        need, pace = r.get("activation_required_pace"), r.get("activation_pace_7d")
        lines.append(
            f"{r['unit_code']:<12} {r['unit_name'][:32]:<32} {r['eligible']:>9,} "
            f"{r['registration_rate'] * 100:>6.1f}% {r['activation_rate'] * 100:>6.1f}% "
            f"{r['usage_rate'] * 100:>6.1f}% "
            f"{'' if need is None else f'{need:,.1f}':>10} "
            f"{'' if pace is None else f'{pace:,.1f}':>9} {r.get('activation_status') or '':<10}"
        )
    return "\n".join(lines) + "\n"


def _kpi_write(rows: list[dict], stream, fmt: str, *, data: dict, to_file: bool) -> None:
    """The KPI rows as JSON (`data` with the rows), CSV or a text table."""
    if fmt == "json":
        data = {**data, "rows": rows}
        if to_file:
            json.dump(data, stream, ensure_ascii=False)
        else:
            print_json(data)
    elif fmt == "csv":
        fields = [*KPI_FIELDS, *EXTRA_FIELDS]
        writer = csv_writer(stream)
        writer.writerow(fields)
        writer.writerows([row.get(field, "") for field in fields] for row in rows)
    else:
        stream.write(_table(rows))
