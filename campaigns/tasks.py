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


@shared_task(acks_late=True, max_retries=0)
def campaign_triggers_timed_task() -> int:
    """Beat, every minute: dates that came round and schedules that are due enroll."""
    from django.utils import timezone

    from campaigns.engine.triggers import timed_triggers_poll

    return timed_triggers_poll(now=timezone.now())
