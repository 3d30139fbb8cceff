from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gocua.geo.cli import edition_or_stop
from gocua.geo.selectors import EditionError, unit_get
from gocua.lib.cli import DATA_COMMAND_CHECKS
from gocua.synthetic.demo_users import demo_login_cards, demo_users_ensure


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = "Create one demo account per role on a generated province (demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True)
        parser.add_argument("--edition", type=int, choices=[2023, 2025])
        parser.add_argument("--password", required=True, help="the demo accounts' password")
        parser.add_argument(
            "--cards",
            help="also give the demo commune's team accounts and write their login cards "
            "(an HTML page to print) to this file",
        )
        parser.add_argument("--site", default="http://127.0.0.1:8000", help="the demo's address")

    def handle(self, *args, province, edition, password, cards, site, **options):
        edition = edition_or_stop(edition)
        try:
            unit = unit_get(edition=edition, code=province)
            made = demo_users_ensure(province=unit, password=password)
        except (EditionError, ValueError) as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(f"Demo accounts (password: {password}):")
        for row in made:
            self.stdout.write(f"  {row['username']:<11} {row['role']:<15} {row['unit']}")
        if cards:
            team, html = demo_login_cards(province=unit, base_url=site)
            path = Path(cards)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(html, encoding="utf-8")
            self.stdout.write(
                f"Login cards of {team.name} ({html.count('login-card-body')} members, one-time "
                f"codes valid 72 hours): {path.resolve()}\n"
                f"  open it in a browser and print it, or log in as demo_xa and give accounts "
                f"from the team's page"
            )
