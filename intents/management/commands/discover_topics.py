from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from intents.models import DiscoveryRun
from intents.services import DISCOVERY_DAYS, topics_discover
from ledger.context import Actor, acting_as


class Command(BaseCommand):
    help = (
        "Gather the texts no intent was recognised in over the last days into topics, now. "
        "Discovery is software's work whoever starts it: it proposes topics, people name or dismiss them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=DISCOVERY_DAYS,
            help=f"the period, in days up to now ({DISCOVERY_DAYS})",
        )

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError(f"--days: at least 1, not {days}")
        until = timezone.now()
        with acting_as(Actor.for_task("intents.discover_topics")):
            run = topics_discover(since=until - timedelta(days=days), until=until)
        if run.status != DiscoveryRun.Status.DONE:
            raise CommandError(f"discovery failed: {run.error}")
        self.stdout.write(
            f"texts {run.text_count}, topics {run.topic_count}, new {run.new_topic_count}, {run.seconds} s"
        )
