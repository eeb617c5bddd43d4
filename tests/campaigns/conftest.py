from django.utils import timezone

from campaigns import services
from campaigns.engine.advance import enrollments_advance
from campaigns.models import LIVE, Campaign, Enrollment
from messaging.models import OutboxMessage
from messaging.outbox import outbox_deliver
from tests.clock import NOW  # noqa: F401 - the tests' clock, imported from here by many


def published(*, steps, triggers=(), **fields) -> Campaign:
    name = fields.pop("name", "Journey")
    campaign = services.campaign_create(name=name, steps=steps, triggers=triggers, **fields)
    services.campaign_publish(campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def run_due() -> int:
    """What the tick and the workers do, in this process: advance every due enrollment and
    deliver every pending message."""
    now = timezone.now()
    due = Enrollment.objects.filter(status__in=LIVE, next_run_at__lte=now).values_list("pk", flat=True)
    ran = enrollments_advance(enrollment_ids=list(due), now=now)
    for message_id in OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True):
        outbox_deliver(message_id=message_id, now=now)
    return ran
