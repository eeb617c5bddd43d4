from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def campaigns_tick_task() -> dict:
    """Beat, every few seconds: due enrollments go to workers, segment triggers enroll."""
    from dataclasses import asdict

    from django.utils import timezone

    from campaigns.engine.tick import tick

    return asdict(tick(now=timezone.now()))


@shared_task(acks_late=True, bind=True, max_retries=3)
def enrollments_advance_task(self, *, enrollment_ids: list[int]) -> int:
    """A batch of due enrollments moves on. Safe to run twice: each row is re-checked under
    its lock, and a lost batch is claimed again by the tick once its lease ends. A lost
    database connection rolls the batch back whole; it is tried again soon."""
    from django.db import InterfaceError, OperationalError

    from campaigns.engine.advance import enrollments_advance

    try:
        return enrollments_advance(enrollment_ids=enrollment_ids)
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=2**self.request.retries) from error


@shared_task(acks_late=True, bind=True, max_retries=5)
def outbox_deliver_task(self, *, message_id: int) -> str:
    """Send one outbox message; a transient failure is retried with backoff."""
    from django.utils import timezone

    from campaigns.engine.delivery import outbox_deliver

    try:
        return outbox_deliver(message_id=message_id, now=timezone.now())
    except OSError as error:
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error


@shared_task(acks_late=True, max_retries=0)
def outbox_deliver_many_task(*, message_ids: list[int]) -> dict:
    """Send a few outbox messages; one that fails for a transient reason goes on alone,
    retried with backoff by outbox_deliver_task."""
    from collections import Counter

    from django.utils import timezone

    from campaigns.engine.delivery import outbox_deliver

    results = Counter()
    for message_id in message_ids:
        try:
            results[outbox_deliver(message_id=message_id, now=timezone.now())] += 1
        except OSError:
            results["retrying"] += 1
            outbox_deliver_task.apply_async(kwargs={"message_id": message_id}, countdown=2)
    return dict(results)
