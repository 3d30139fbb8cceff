import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from gocua.geo.cli import edition_or_stop
from gocua.lib.cli import DATA_COMMAND_CHECKS, print_json
from gocua.synthetic.services import GenerateError, province_generate


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = (
        "Generate a synthetic province on its real units: residents in households and hamlets, "
        "a 60-day campaign ending today with teams, and its history (stage events, visits, "
        "follow-ups, home support, outreach, trainings). The same seed gives the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, help="province code, e.g. 72")
        parser.add_argument(
            "--edition",
            type=int,
            choices=[2023, 2025],
            help="unit edition (default: the only one loaded)",
        )
        parser.add_argument("--people", type=int, required=True, help="number of residents")
        parser.add_argument("--seed", type=int, required=True, help="random seed")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the province's residents and history first",
        )
        parser.add_argument(
            "--today",
            type=dt.date.fromisoformat,
            help="the campaign's last day, YYYY-MM-DD (default: today)",
        )
        parser.add_argument("--json", action="store_true", help="one JSON object on stdout")

    def handle(self, *args, **options):
        edition = edition_or_stop(options["edition"])
        progress = _Progress(options["people"])
        try:
            summary = province_generate(
                province_code=options["province"],
                edition=edition,
                people=options["people"],
                seed=options["seed"],
                replace=options["replace"],
                today=options["today"],
                on_progress=progress.advance,
            )
        except GenerateError as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            progress.stop()
        if options["json"]:
            print_json(summary.as_dict())
            return
        s = summary
        self.stdout.write(
            f"province {s.province} ({s.edition}), seed {s.seed}, last day {s.today:%d/%m/%Y}: "
            f"{s.residents:,} residents in {s.households:,} households, {s.hamlets:,} hamlets "
            f"of {s.communes} communes\n"
            f"{s.stage_events:,} stage events, {s.visits:,} visits ({s.visit_outcomes:,} "
            f"outcomes), {s.follow_ups:,} follow-ups, {s.home_support_requests:,} home-support "
            f"requests; {s.teams} teams, {s.members:,} members\n"
            f"registered {s.registration_rate_day0:.1%} → {s.registration_rate:.1%}, "
            f"activated {s.activation_rate_day0:.1%} → {s.activation_rate:.1%} of "
            f"{s.eligible:,} eligible; {s.seconds:.1f} s"
            + (f"; replaced {s.replaced:,} residents" if s.replaced else "")
        )


class _Progress:
    """A progress bar on stderr (rich), by residents written."""

    def __init__(self, total: int) -> None:

        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("generating residents"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=not console.is_terminal,
            disable=not console.is_terminal,
        )
        self._task = self._progress.add_task("generate", total=total)
        self._started = False

    def advance(self, done: int, total: int) -> None:
        if not self._started:
            self._progress.start()
            self._started = True
        self._progress.update(self._task, completed=done, total=total)

    def stop(self) -> None:
        if self._started:
            self._progress.stop()
