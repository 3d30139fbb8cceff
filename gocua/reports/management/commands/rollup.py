import json

from django.core.management.base import BaseCommand

from gocua.lib.cli import DATA_COMMAND_CHECKS
from gocua.reports.rollups import rollup_everything, rollup_rebuild, rollup_roll


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = (
        "Rollups behind dashboards and reports. `rollup rebuild` recomputes them from residents, "
        "stage events and visits; `rollup roll` moves them to today (birthdays), e.g. from cron; `rollup fold` counts "
        "the changes queued for them (what the worker does), e.g. after an import."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="recompute every rollup from the source tables")
        rebuild.add_argument(
            "--edition",
            type=int,
            choices=[2023, 2025],
            help="only the units of this edition (default: all)",
        )
        rebuild.add_argument("--json", action="store_true", help="print the counts as JSON")
        sub.add_parser("fold", help="count the changes queued for the rollups now")
        sub.add_parser(
            "roll", help="roll forward to today and re-count residents edited since (cron)"
        )

    def handle(self, *args, **options):
        if options["action"] == "fold":
            rollup_everything()
            return
        if options["action"] == "roll":
            day, changed = rollup_roll()
            self.stdout.write(
                f"rolled to {day}; {changed} residents edited outside the hooks re-counted"
                if day
                else "rollups not built yet"
            )
            return
        counts = rollup_rebuild(edition=options["edition"])
        if options["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
        else:
            self.stdout.write(
                f"rebuilt {counts['unit_days']:,} unit-days for {counts['residents']:,} residents "
                f"({counts['first_day']} .. {counts['day']}, min age {counts['min_age']})"
            )
