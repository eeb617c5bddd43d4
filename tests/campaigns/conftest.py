from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from campaigns import services
from campaigns.engine.advance import enrollments_advance
from campaigns.engine.delivery import outbox_deliver
from campaigns.models import LIVE, Campaign, Enrollment, OutboxMessage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


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
