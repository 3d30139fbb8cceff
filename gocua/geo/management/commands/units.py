from django.core.management.base import BaseCommand, CommandError

from gocua.geo.cli import edition_or_stop
from gocua.geo.selectors import EditionError, unit_get, unit_list
from gocua.geo.services import UnitError, units_load
from gocua.lib.cli import DATA_COMMAND_CHECKS, print_json


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = "Load or list administrative units (real codes from vietnamadminunits)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load a province's units of one edition")
        load.add_argument(
            "--province", required=True, help="province code, e.g. 72 (2023) or 80 (2025)"
        )
        load.add_argument("--edition", type=int, required=True, choices=[2023, 2025])
        listing = sub.add_parser("list", help="list units")
        listing.add_argument("--edition", type=int, choices=[2023, 2025])
        listing.add_argument("--parent", help="only the children of this unit code")
        listing.add_argument("--json", action="store_true", help="one JSON object on stdout")

    def handle(self, *args, action, **options):
        if action == "load":
            try:
                counts = units_load(province_code=options["province"], edition=options["edition"])
            except UnitError as exc:
                raise CommandError(str(exc), returncode=2) from None
            self.stderr.write(
                f"loaded {counts['province']} province, {counts['district']} districts, "
                f"{counts['commune']} communes ({options['edition']} edition)"
            )
            return
        edition = edition_or_stop(options["edition"])
        parent = None
        if options["parent"]:
            try:
                parent = unit_get(edition=edition, code=options["parent"])
            except EditionError as exc:
                raise CommandError(str(exc), returncode=2) from None
        rows = [
            {
                "code": u.code,
                "name": u.name,
                "level": u.level,
                "parent": u.parent.code if u.parent else None,
            }
            for u in unit_list(edition=edition, parent=parent)
        ]
        if options["json"]:
            print_json({"edition": edition, "units": rows})
            return
        for row in rows:
            self.stdout.write(
                f"{row['code']:<14} {row['level']:<9} {row['parent'] or '':<10} {row['name']}"
            )
