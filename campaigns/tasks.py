from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def campaigns_tick_task() -> dict:
    """Beat, every few seconds: due enrollments go to workers, segment triggers enroll."""
    from dataclasses import asdict

    from django.utils import timezone

    from campaigns.engine.tick import tick

    return asdict(tick(now=timezone.now()))


@shared_task(acks_late=True, max_retries=0)
def enrollments_advance_task(*, enrollment_ids: list[int]) -> int:
    """A batch of due enrollments moves on. Safe to run twice: each row is re-checked under
    its lock, and a lost batch is claimed again by the tick once its lease ends."""
    from campaigns.engine.advance import enrollments_advance

    return enrollments_advance(enrollment_ids=enrollment_ids)


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
def campaign_triggers_timed_task() -> int:
    """Beat, every minute: dates that came round and schedules that are due enroll."""
    from django.utils import timezone

    from campaigns.engine.triggers import timed_triggers_poll

    return timed_triggers_poll(now=timezone.now())


@shared_task(acks_late=True, max_retries=0)
def leads_escalate_task() -> int:
    """Beat, every minute: leads whose first-response deadline passed are escalated."""
    from django.utils import timezone

    from campaigns.routing import leads_escalate

    return leads_escalate(now=timezone.now())
