import csv
import sys

from django.core.management.base import BaseCommand, CommandError

from gocua.geo.models import AdminUnit
from gocua.geo.selectors import EditionError, top_units, unit_get
from gocua.lib.cli import edition_or_stop, print_json
from gocua.reports.exports import kpi_xlsx
from gocua.reports.selectors import EXTRA_FIELDS, KPI_FIELDS, kpi_rows, min_age_now


class Command(BaseCommand):
    help = "Reports. `report kpi`: registration, activation and usage for a unit and its children."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="report", required=True)
        kpi = sub.add_parser("kpi", help="KPI rows of a unit and its descendants")
        kpi.add_argument("--unit", help="unit code (default: the province)")
        kpi.add_argument("--edition", type=int, choices=[2023, 2025])
        kpi.add_argument("--depth", type=int, default=1, help="levels below the unit (default 1)")
        kpi.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table")
        kpi.add_argument("--output", help="write to this file (required for xlsx)")

    def handle(self, *args, **options):
        edition = edition_or_stop(options["edition"])
        unit: AdminUnit | None
        try:
            if options["unit"]:
                unit = unit_get(edition=edition, code=options["unit"])
            else:
                unit = top_units(edition).first()
        except EditionError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if unit is None:
            raise CommandError("no units are loaded", returncode=2)
        if options["depth"] < 0:
            raise CommandError("--depth must be 0 or more", returncode=2)
        rows = kpi_rows(unit, depth=options["depth"], min_age=min_age_now())
        fmt, output = options["format"], options["output"]
        if fmt == "xlsx":
            if not output:
                raise CommandError("--format xlsx needs --output PATH", returncode=2)
            kpi_xlsx(rows, output, title=f"Báo cáo VNeID — {unit.name}")
            self.stderr.write(f"wrote {output}")
            return
        stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if fmt == "json":
                if output:
                    import json

                    json.dump(
                        {"unit": unit.code, "edition": edition, "rows": rows},
                        stream,
                        ensure_ascii=False,
                    )
                else:
                    print_json({"unit": unit.code, "edition": edition, "rows": rows})
            elif fmt == "csv":
                writer = csv.DictWriter(stream, fieldnames=[*KPI_FIELDS, *EXTRA_FIELDS])
                writer.writeheader()
                writer.writerows(rows)
            else:
                stream.write(_table(rows))
        finally:
            if output:
                stream.close()


def _table(rows: list[dict]) -> str:
    lines = [f"{'code':<12} {'name':<32} {'eligible':>9} {'reg %':>7} {'act %':>7} {'used %':>7}"]
    for r in rows:
        lines.append(
            f"{r['unit_code']:<12} {r['unit_name'][:32]:<32} {r['eligible']:>9,} "
            f"{r['registration_rate'] * 100:>6.1f}% {r['activation_rate'] * 100:>6.1f}% "
            f"{r['usage_rate'] * 100:>6.1f}%"
        )
    return "\n".join(lines) + "\n"
