from celery import shared_task


@shared_task(acks_late=True, bind=True, max_retries=5)
def outbox_deliver_task(self, *, message_id: int) -> str:
    """Send one outbox message; a transient failure is retried with backoff."""
    from django.utils import timezone

    from messaging.outbox import outbox_deliver

    try:
        return outbox_deliver(message_id=message_id, now=timezone.now())
    except OSError as error:
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error


@shared_task(acks_late=True, max_retries=0)
def outbox_flush_task() -> int:
    """Beat: pending messages that no task took (a lost publish, a retry that gave up) go out
    in batches, one provider connection per batch. Claiming skips rows another worker holds."""
    from django.utils import timezone

    from messaging.outbox import outbox_flush

    return outbox_flush(now=timezone.now())


@shared_task(acks_late=True, max_retries=0)
def outbox_retry_task() -> int:
    """Beat, every few seconds: SMS and webhook messages whose next attempt is due go to workers."""
    from django.utils import timezone

    from messaging.outbox_retries import retries_dispatch

    return retries_dispatch(now=timezone.now())


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


@shared_task(acks_late=True, max_retries=0)
def outbox_deliver_many_task(*, message_ids: list[int]) -> dict:
    """Send a few outbox messages: e-mails as one batch over one connection, the others one
    by one. When the provider cannot be reached, each goes on alone, retried with backoff
    by outbox_deliver_task (and beat's flush picks up whatever is still pending)."""
    from collections import Counter

    from django.utils import timezone

    from messaging.models import OutboxMessage
    from messaging.outbox import outbox_deliver, outbox_deliver_batch

    channels = dict(OutboxMessage.objects.filter(pk__in=message_ids).values_list("pk", "channel"))
    emails = [pk for pk in message_ids if channels.get(pk) == OutboxMessage.Channel.EMAIL]
    results = Counter()
    try:
        results.update(outbox_deliver_batch(message_ids=emails, now=timezone.now()).values())
    except OSError:
        results["retrying"] += len(emails)
        for message_id in emails:
            outbox_deliver_task.apply_async(kwargs={"message_id": message_id}, countdown=2)
    for message_id in (pk for pk in message_ids if pk in channels and pk not in set(emails)):
        try:
            results[outbox_deliver(message_id=message_id, now=timezone.now())] += 1
        except OSError:
            results["retrying"] += 1
            outbox_deliver_task.apply_async(kwargs={"message_id": message_id}, countdown=2)
    return dict(results)
