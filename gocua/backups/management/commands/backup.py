from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gocua.backups.services import backup_database
from gocua.backups.sqlite import BackupError
from gocua.lib.cli import DATA_COMMAND_CHECKS


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = (
        "Copy the embedded SQLite database to a new file PATH while the server and the worker "
        "run, and check the copy's integrity. PostgreSQL is backed up by pgBackRest "
        "(docs/backups.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the new backup file (never overwritten)")

    def handle(self, *args, path: Path, **options):
        try:
            self.stdout.write(backup_database(path))
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from None
