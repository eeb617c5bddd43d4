from datetime import date

from django.core.management.base import BaseCommand, CommandError

from reporting.services import LedgerBusyError, rollups_rebuild, rollups_roll


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--since: {value!r} is not a date; expected YYYY-MM-DD") from error


class Command(BaseCommand):
    help = (
        "Count the ledger's actions into the daily rollups: the actions since the last roll, "
        "or with --since DATE (or --all) every day from that date counted again from the ledger."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=_day, metavar="YYYY-MM-DD", help="rebuild every day from this date"
        )
        parser.add_argument("--all", dest="rebuild_all", action="store_true", help="rebuild every day")

    def handle(self, *args, since, rebuild_all, **options):
        # Counting what is already recorded changes no marketing data: it is no action of its own.
        try:
            if since is not None or rebuild_all:
                result = rollups_rebuild(since=since)
                scope = f"from {since}" if since else "all days"
                self.stdout.write(
                    f"rebuilt {scope}: {result.actions} actions, through action {result.through_id}"
                )
            else:
                result = rollups_roll()
                self.stdout.write(f"rolled up {result.actions} actions, through action {result.through_id}")
        except LedgerBusyError as error:
            raise CommandError(str(error)) from error
