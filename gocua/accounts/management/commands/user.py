import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from gocua.accounts.models import Role, User
from gocua.accounts.services import (
    AccountError,
    tokens_revoke_all,
    user_deactivate,
    user_password_set,
)
from gocua.campaigns.models import Affiliation
from gocua.campaigns.services import user_create_assigned
from gocua.geo.cli import edition_or_stop
from gocua.geo.selectors import EditionError, unit_get
from gocua.lib.cli import DATA_COMMAND_CHECKS


class Command(BaseCommand):
    requires_system_checks = DATA_COMMAND_CHECKS
    help = (
        "User accounts: create one bound to a unit, set a new password, deactivate one, or "
        "revoke its API tokens (a lost phone). The command line acts with the whole "
        "installation's authority; the audit log names the operating-system user."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a user bound to one unit")
        create.add_argument("name", help="the login name")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument(
            "--unit", required=True, help="unit code (a commune for a field member)"
        )
        create.add_argument("--edition", type=int, choices=[2023, 2025])
        create.add_argument("--full-name", default="", help="the person's full name")
        create.add_argument(
            "--hamlets",
            help="field member only: 'all' or NAME,NAME (hamlets of the commune to walk)",
        )
        create.add_argument(
            "--affiliation",
            default="other",
            choices=Affiliation.values,
            help="field member's affiliation in the team (default: other)",
        )
        create.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin instead of prompting",
        )
        password = sub.add_parser(
            "password", help="set a new password (ends every API token of the account)"
        )
        password.add_argument("name", help="the login name")
        password.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin instead of prompting",
        )
        deactivate = sub.add_parser(
            "deactivate", help="close an account (it can no longer log in; tokens revoked)"
        )
        deactivate.add_argument("name", help="the login name")
        revoke = sub.add_parser(
            "revoke-tokens", help="end every API token of an account (a lost phone)"
        )
        revoke.add_argument("name", help="the login name")

    def handle(self, *args, action, **options):
        if action != "create":
            return self.handle_account(action, options)
        edition = edition_or_stop(options["edition"])
        try:
            unit = unit_get(edition=edition, code=options["unit"].strip())
        except EditionError as exc:
            raise CommandError(str(exc), returncode=2) from None
        hamlets = options["hamlets"]
        if hamlets is not None and hamlets.strip().lower() != "all":
            hamlets = [name.strip() for name in hamlets.split(",") if name.strip()]
        elif hamlets is not None:
            hamlets = "all"
        password = self._password(options["password_stdin"])
        try:
            user = user_create_assigned(
                username=options["name"],
                role=options["role"],
                unit=unit,
                password=password,
                full_name=options["full_name"],
                hamlets=hamlets,
                affiliation=options["affiliation"],
            )
        except AccountError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(
            f"created {user.username} ({user.role}) in {unit.name} ({unit.code}, {unit.edition})"
        )

    def handle_account(self, action: str, options: dict) -> None:
        user = User.objects.filter(username=options["name"]).first()
        if user is None:
            raise CommandError(f"no user named {options['name']!r}", returncode=2)
        if action == "password":
            try:
                user_password_set(
                    user=user, password=self._password(options["password_stdin"]), by=None
                )
            except AccountError as exc:
                raise CommandError(str(exc), returncode=2) from None
            self.stdout.write(f"new password set for {user.username}; its API tokens ended")
        elif action == "deactivate":
            user_deactivate(user=user, by=None)
            self.stdout.write(f"{user.username} deactivated; its API tokens ended")
        else:
            count = tokens_revoke_all(user=user, by=None, reason="revoked_by_command")
            self.stdout.write(f"{count} API token(s) of {user.username} revoked")

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("no password on stdin", returncode=2)
            return password
        if not sys.stdin.isatty():
            raise CommandError(
                "no terminal to prompt for the password: pipe it with --password-stdin",
                returncode=2,
            )
        try:
            first = getpass.getpass("Password: ")
            second = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("no password given", returncode=2) from None
        if first != second:
            raise CommandError("the two passwords differ", returncode=2)
        return first
