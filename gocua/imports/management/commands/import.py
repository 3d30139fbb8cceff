import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from gocua.geo.cli import edition_or_stop
from gocua.imports.citizens import citizens_import
from gocua.imports.readers import ImportFileError
from gocua.imports.stages import stages_import
from gocua.lib.cli import DATA_COMMAND_CHECKS, print_json, stderr_progress


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = (
        "Import a resident list (citizens) or a VNeID status extract (stages), CSV or XLSX. "
        "The command line has no user: it acts with the whole installation's authority (any "
        "unit, and a person a row puts in another commune is moved there), and the audit log "
        "names the operating-system account that ran it."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="kind", required=True)
        for kind, text in (("citizens", "a resident list"), ("stages", "a VNeID status extract")):
            p = sub.add_parser(kind, help=f"import {text}")
            p.add_argument("path")
            if kind == "citizens":
                p.add_argument("--edition", type=int, choices=[2023, 2025])
            p.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
            p.add_argument("--rejects", help="write rejected rows to this CSV")
            p.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, kind, path, **options):
        def warn(text: str) -> None:
            sys.stderr.write(f"warning: {text}\n")

        advance, stop = stderr_progress(f"importing {kind}")
        try:
            if kind == "citizens":
                edition = edition_or_stop(options["edition"])
                summary, notes = citizens_import(
                    path,
                    edition=edition,
                    dry_run=options["dry_run"],
                    rejects_path=options["rejects"],
                    on_warning=warn,
                    on_progress=advance,
                )
            else:
                summary, notes = stages_import(
                    path,
                    dry_run=options["dry_run"],
                    rejects_path=options["rejects"],
                    on_warning=warn,
                    on_progress=advance,
                )
        except ImportFileError as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            stop()
        if not options["dry_run"]:
            # The import's changes wait in the outbox for the worker, which may not be running
            # beside a command line: count them now (the reports' command, by its name), so an
            # import that has returned has been counted.
            call_command("rollup", "fold", stdout=self.stdout)
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
        data = summary.as_dict()
        if options["json"]:
            print_json(data)
            return
        prefix = "dry run (nothing written): " if options["dry_run"] else ""
        self.stdout.write(prefix + ", ".join(f"{k} {v}" for k, v in data.items() if v is not None))
