from django.core.management.base import BaseCommand, CommandError

from gocua.geo.selectors import EditionError, unit_get
from gocua.lib.cli import DATA_COMMAND_CHECKS, edition_or_stop
from gocua.synthetic.demo_users import demo_users_ensure


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = "Create one demo account per role on a generated province (demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True)
        parser.add_argument("--edition", type=int, choices=[2023, 2025])
        parser.add_argument("--password", required=True, help="the demo accounts' password")

    def handle(self, *args, province, edition, password, **options):
        edition = edition_or_stop(edition)
        try:
            unit = unit_get(edition=edition, code=province)
            made = demo_users_ensure(province=unit, password=password)
        except (EditionError, ValueError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"Demo accounts (password: {password}):")
        for row in made:
            self.stdout.write(f"  {row['username']:<11} {row['role']:<15} {row['unit']}")
