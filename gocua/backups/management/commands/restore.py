from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gocua.backups.services import restore_database
from gocua.backups.sqlite import BackupError
from gocua.lib.cli import DATA_COMMAND_CHECKS


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = (
        "Replace the embedded SQLite database with the backup at PATH (made by `gocua backup`); "
        "the replaced file is kept beside it. Refused while the server or a worker has the "
        "database open, unless --force. PostgreSQL is restored by pgBackRest (docs/backups.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the backup file to restore")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore even while other processes have the database open (restart them)",
        )

    def handle(self, *args, path: Path, force: bool, **options):
        try:
            self.stdout.write(restore_database(path, force=force))
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from None
