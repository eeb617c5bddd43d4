"""Delivering SMS and webhook messages from the outbox, with retries kept in PostgreSQL.

A message goes pending -> sending (committed before the provider is called) -> sent, or
back to pending with `next_attempt_at` set by exponential backoff (`OUTBOX_RETRY_BASE_SECONDS`
doubled per attempt, at most `OUTBOX_RETRY_MAX_SECONDS`), or to failed after
`OUTBOX_MAX_ATTEMPTS` tries or a refusal that no retry can change (a 4xx). Every try is a
DeliveryAttempt row: the delivery log. The outbox tick (beat) hands due retries to workers;
no Celery countdown holds one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from contacts.models import Contact
from ledger.context import acting_as, current_actor_or_none
from ledger.models import Category
from ledger.origins import origin_describe
from ledger.services import action_record
from messaging import dispatch
from messaging.channels.results import Attempt
from messaging.channels.sms import sms_backend
from messaging.channels.webhook import webhook_post
from messaging.gates import send_refusal
from messaging.models import DeliveryAttempt, OutboxMessage

CHANNELS = (OutboxMessage.Channel.SMS, OutboxMessage.Channel.WEBHOOK)
LEASE = timedelta(minutes=5)  # a claimed retry is not claimed again before this, if its worker was lost
SWEEP_AFTER = timedelta(minutes=2)  # a first attempt whose task was lost is picked up after this
CLAIM_BATCH = 500


def backoff(*, attempts: int) -> timedelta:
    """The wait after the given number of failed attempts: base, 2 x base, 4 x base, ... capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def channel_deliver(*, message_id: int, now: datetime) -> str:
    """Send one SMS or webhook message; returns its status afterwards ("skipped" when it was
    not pending or another worker holds it)."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING, channel__in=CHANNELS)
            .first()
        )
        if message is None:
            return "skipped"
        contact = Contact.objects.get(pk=message.contact_id)
        refusal = send_refusal(message=message, contact=contact)
        if refusal:
            message.status = OutboxMessage.Status.SUPPRESSED
            message.error = refusal
            message.next_attempt_at = None
            message.save(update_fields=["status", "error", "next_attempt_at"])
            return message.status
        message.status = OutboxMessage.Status.SENDING
        message.attempts += 1
        message.save(update_fields=["status", "attempts"])

    attempt = _send(message)

    with transaction.atomic():
        DeliveryAttempt.objects.create(
            message_id=message.pk,
            number=message.attempts,
            attempted_at=now,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            ok=attempt.ok,
            error=attempt.error,
            provider_id=attempt.provider_id[:100],
        )
        if attempt.ok:
            status, next_attempt_at, sent_at = OutboxMessage.Status.SENT, None, now
        elif attempt.retryable and message.attempts < settings.OUTBOX_MAX_ATTEMPTS:
            status, next_attempt_at, sent_at = (
                OutboxMessage.Status.PENDING, now + backoff(attempts=message.attempts), None,
            )  # fmt: skip
        else:
            status, next_attempt_at, sent_at = OutboxMessage.Status.FAILED, None, None
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=status, next_attempt_at=next_attempt_at, sent_at=sent_at, error=attempt.error
        )
        if status != OutboxMessage.Status.PENDING:
            _record(message, status=status, attempt=attempt, now=now)
    return status


def _send(message: OutboxMessage) -> Attempt:
    payload = message.payload if isinstance(message.payload, dict) else {}
    try:
        if message.channel == OutboxMessage.Channel.SMS:
            contact_phone = (
                Contact.objects.filter(pk=message.contact_id).values_list("phone", flat=True).first()
            )
            return sms_backend().send(
                to=payload.get("to") or contact_phone, body=payload["body"], key=message.key
            )
        return webhook_post(url=payload["url"], body=payload.get("body", {}), key=message.key)
    except KeyError as error:
        return Attempt(ok=False, error=f"the message's payload has no {error.args[0]!r}")


def _record(message: OutboxMessage, *, status: str, attempt: Attempt, now: datetime) -> None:
    sms = message.channel == OutboxMessage.Channel.SMS
    verb = f"{'sms' if sms else 'webhook'}.{'sent' if status == OutboxMessage.Status.SENT else 'failed'}"
    details = {"message": message.pk, "attempts": message.attempts}
    if attempt.status_code:
        details["status_code"] = attempt.status_code
    origin = origin_describe(message.origin_type, message.origin_id)
    actor = origin.actor if origin is not None else current_actor_or_none()
    if actor is None:
        return  # no one to credit (a message written outside any campaign, delivered outside a task)
    with acting_as(actor):
        action_record(
            category=Category.SMS if sms else Category.WEBHOOK,
            verb=verb,
            contact_id=message.contact_id,
            origin=origin,
            channel=message.channel,
            details=details,
            occurred_at=now,
        )


def retries_claim(*, now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """The SMS and webhook messages due for an attempt: retries whose time has come, and first
    attempts whose task was lost. Each gets a lease (its next attempt moved past now), so the
    next tick does not hand it out twice while a worker holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {OutboxMessage._meta.db_table} SET next_attempt_at = %(lease)s
            WHERE id IN (
                SELECT id FROM {OutboxMessage._meta.db_table}
                WHERE status = 'pending' AND channel IN ('sms', 'webhook')
                  AND (next_attempt_at <= %(now)s OR (next_attempt_at IS NULL AND created_at <= %(swept)s))
                ORDER BY COALESCE(next_attempt_at, created_at)
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id
            """,  # noqa: S608 - table names from the models, values bound
            {"lease": now + LEASE, "now": now, "swept": now - SWEEP_AFTER, "limit": limit},
        )
        return sorted(row[0] for row in cursor.fetchall())


def retries_dispatch(*, now: datetime) -> int:
    """The tick: claim what is due and hand each message to a worker."""
    ids = retries_claim(now=now)
    for message_id in ids:
        dispatch.outbox_deliver_soon(message_id)
    return len(ids)
