from django.core.management.base import BaseCommand, CommandError

from contacts.models import Contact
from demo.seed import DEMO_PASSWORD, demo_seed, demo_users_ensure


class Command(BaseCommand):
    help = "Load realistic demo data: accounts, contacts, 90 days of touchpoints and their ledger."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=400, help="how many contacts (default 400)")
        parser.add_argument("--days", type=int, default=90, help="days of touchpoint history (default 90)")
        parser.add_argument(
            "--seed", type=int, default=42, help="random seed; the same seed gives the same data"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="only when there are no contacts yet (used by make run)"
        )

    def handle(self, *args, contacts, days, seed, if_empty, **options):
        if contacts < 1:
            raise CommandError("--contacts must be at least 1")
        if if_empty and Contact.objects.exists():
            credentials = demo_users_ensure()
            self.stdout.write("Demo data already loaded.")
        else:
            summary = demo_seed(contacts=contacts, days=days, seed=seed)
            credentials = summary.credentials
            share = summary.manual_actions / summary.actions if summary.actions else 0
            self.stdout.write(
                f"Loaded {summary.accounts} accounts, {summary.contacts} contacts, "
                f"{summary.touchpoints} touchpoints ({summary.intents} showing an intent), "
                f"{summary.segments} segments and "
                f"{summary.actions} actions ({share:.1%} manual)."
            )
            if summary.live_touchpoints:
                self.stdout.write(
                    f"{summary.live_touchpoints} sign-ups and webinar registrations of the last hour wait "
                    "for a worker: it enrolls them in the demo campaigns and sends their e-mails."
                )
        self.stdout.write(f"Demo logins, password {DEMO_PASSWORD!r} unless changed since:")
        for username, role in credentials:
            self.stdout.write(f"  {username:<12} {role}")
