"""Thin Celery tasks: each takes ids and calls a service."""

from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def outbox_deliver_task(*, message_id: int) -> str:
    """Send one outbox message. A failure is kept in the database with the time of the next
    attempt, for the outbox tick to hand out again: nothing waits in the broker."""
    from django.utils import timezone

    from messaging.outbox import outbox_deliver

    return outbox_deliver(message_id=message_id, now=timezone.now())


@shared_task(acks_late=True, max_retries=0)
def outbox_deliver_many_task(*, message_ids: list[int]) -> dict:
    """Send a few outbox messages, those of one channel over one provider connection."""
    from collections import Counter

    from django.utils import timezone

    from messaging.outbox import outbox_deliver_batch

    return dict(Counter(outbox_deliver_batch(message_ids=message_ids, now=timezone.now()).values()))


@shared_task(acks_late=True, max_retries=0)
def outbox_tick_task() -> dict:
    """Beat, every few seconds: claims lost with their worker are taken up, and messages due
    (retries, first attempts whose task was lost) go to the workers."""
    from dataclasses import asdict

    from django.utils import timezone

    from messaging.outbox import outbox_tick

    return asdict(outbox_tick(now=timezone.now()))


@shared_task(acks_late=True, max_retries=0)
def audience_sync_task(*, audience_id: int) -> int:
    """Sync one audience now (asked for in the admin or the API)."""
    from messaging.audiences import audience_sync
    from messaging.models import Audience

    audience = Audience.objects.filter(pk=audience_id).first()
    if audience is None:
        return 0
    return audience_sync(audience=audience).members


@shared_task(acks_late=True, max_retries=0)
def audiences_sync_due_task() -> int:
    """Beat: the audiences on a schedule whose time has come are synced."""
    from django.utils import timezone

    from messaging.audiences import audiences_sync_due

    return audiences_sync_due(now=timezone.now())
