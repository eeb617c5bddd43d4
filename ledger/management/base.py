from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

__all__ = ["CommandError", "ManualCommand"]

from ledger.context import Actor, acting_as


class ManualCommand(BaseCommand):
    """Base of commands a person runs at a terminal: what they change is manual work.

    `--as USERNAME` names the person in the ledger by their back-office account;
    without it the operating-system login is recorded.
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--as",
            dest="acting_user",
            metavar="USERNAME",
            help="record the changes in the ledger as made by this back-office user",
        )
        return parser

    def execute(self, *args, **options):
        username = options.get("acting_user")
        user = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"--as: no user named {username!r}")
        command_name = type(self).__module__.rsplit(".", 1)[-1]
        with acting_as(Actor.for_command(command_name, user=user)):
            return super().execute(*args, **options)
