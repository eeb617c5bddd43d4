"""Delivering outbox messages: claimed, sent, marked; each channel in its own module.

A message goes pending -> sending (committed before the provider is called) -> sent. A
crash after the send leaves it in `sending`, which people reconcile from the admin rather
than have it sent blindly again. Gates (consent) are checked at send time, not at queue
time, by the channel.

A channel is two functions in `CHANNELS`: `held_back(messages) -> {id: reason}` (those are
suppressed) and `send_batch(messages, now=) -> {id: Outcome}` (sent, retry or failed). A
batch of one channel goes through one provider connection.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F

from ledger.context import acting_as
from ledger.models import Category
from ledger.origins import origins_describe
from ledger.services import ActionEntry, action_record_many
from messaging import dispatch
from messaging.channels import email
from messaging.channels.base import FAILED, RETRY, SENT, Outcome
from messaging.models import OutboxMessage

MAX_ATTEMPTS = 5
BATCH_SIZE = 200


@dataclass(frozen=True)
class Draft:
    """A message to write: its key (the same for every try at the same send), its channel,
    its contact, what it carries, and what wrote it (see ledger.origins)."""

    key: str
    channel: str
    contact_id: int
    payload: dict
    origin_type: str = ""
    origin_id: int | None = None


def outbox_queue(*, drafts: Sequence[Draft], now: datetime) -> dict[str, int]:
    """Write each message once, in one INSERT whose unique key makes a second write of the
    same key nothing; {key: message id} of every draft, new or earlier. The new ones are
    handed to the workers after commit."""
    if not drafts:
        return {}
    table = OutboxMessage._meta.db_table
    columns = [
        [draft.key for draft in drafts],
        [draft.channel for draft in drafts],
        [draft.contact_id for draft in drafts],
        [json.dumps(draft.payload) for draft in drafts],
        [draft.origin_type for draft in drafts],
        [draft.origin_id for draft in drafts],
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, channel, contact_id, payload, origin_type, origin_id,
                                 status, attempts, error, created_at)
            SELECT v.key, v.channel, v.contact_id, v.payload, v.origin_type, v.origin_id, %s, 0, '', %s
              FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::jsonb[], %s::varchar[],
                          %s::bigint[]) AS v (key, channel, contact_id, payload, origin_type, origin_id)
            ON CONFLICT (key) DO NOTHING
            RETURNING key, id
            """,  # noqa: S608 - the table name is the model's, every value a parameter
            [OutboxMessage.Status.PENDING, now, *columns],
        )
        created = dict(cursor.fetchall())
        ids = dict(created)
        earlier = [draft.key for draft in drafts if draft.key not in created]
        if earlier:
            cursor.execute(f"SELECT key, id FROM {table} WHERE key = ANY(%s)", [earlier])  # noqa: S608
            ids.update(cursor.fetchall())
    if created:
        new_ids = sorted(created.values())
        transaction.on_commit(lambda: dispatch.outbox_publish(new_ids))
    return ids


@dataclass(frozen=True)
class Channel:
    held_back: Callable[[Sequence[OutboxMessage]], dict[int, str]]
    send_batch: Callable[..., dict[int, Outcome]]
    category: str
    verb: str


CHANNELS: dict[str, Channel] = {
    OutboxMessage.Channel.EMAIL: Channel(email.held_back, email.send_batch, Category.EMAIL, "email.sent"),
}


def outbox_deliver(*, message_id: int, now: datetime) -> str:
    """One message; what became of it ("skipped" when another worker has it or it is done)."""
    channel = OutboxMessage.objects.filter(pk=message_id).values_list("channel", flat=True).first()
    if channel in (OutboxMessage.Channel.SMS, OutboxMessage.Channel.WEBHOOK):
        from messaging.outbox_retries import channel_deliver  # one at a time, with retries of their own

        return channel_deliver(message_id=message_id, now=now)
    return outbox_deliver_batch(message_ids=[message_id], now=now).get(message_id, "skipped")


def _claim(message_ids: Sequence[int]) -> tuple[dict[str, list[OutboxMessage]], set[int]]:
    """Pending messages of known channels, locked, gated and marked `sending` in one commit."""
    claimed: dict[str, list[OutboxMessage]] = defaultdict(list)
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(message_ids), status=OutboxMessage.Status.PENDING, channel__in=list(CHANNELS))
            .order_by("pk")
        )
        for message in messages:
            claimed[message.channel].append(message)
        for name, batch in claimed.items():
            held = CHANNELS[name].held_back(batch)
            for reason in set(held.values()):
                OutboxMessage.objects.filter(pk__in=[pk for pk, why in held.items() if why == reason]).update(
                    status=OutboxMessage.Status.SUPPRESSED, error=reason
                )
            claimed[name] = [message for message in batch if message.pk not in held]
            for message in batch:
                if message.pk in held:
                    message.status = OutboxMessage.Status.SUPPRESSED
        OutboxMessage.objects.filter(pk__in=[m.pk for batch in claimed.values() for m in batch]).update(
            status=OutboxMessage.Status.SENDING, attempts=F("attempts") + 1
        )
    suppressed = {m.pk for m in messages if m.status == OutboxMessage.Status.SUPPRESSED}
    return claimed, suppressed


def outbox_deliver_batch(*, message_ids: Sequence[int], now: datetime) -> dict[int, str]:
    """Deliver pending messages; each one's new status. Messages of channels without a sender
    stay pending; a message another worker holds is left alone."""
    claimed, suppressed = _claim(message_ids)
    statuses = dict.fromkeys(suppressed, OutboxMessage.Status.SUPPRESSED)
    for name, batch in claimed.items():
        if not batch:
            continue
        channel = CHANNELS[name]
        try:
            outcomes = channel.send_batch(batch, now=now)
        except Exception as error:
            _back(batch, f"{type(error).__name__}: {error}")
            raise
        statuses.update(_mark(batch, outcomes, channel=channel, now=now))
    return statuses


def _back(messages: Sequence[OutboxMessage], error: str) -> None:
    """Sending failed before the provider took them: pending again, or failed after the last try."""
    ids = [m.pk for m in messages]
    OutboxMessage.objects.filter(pk__in=ids, attempts__gte=MAX_ATTEMPTS).update(
        status=OutboxMessage.Status.FAILED, error=error
    )
    OutboxMessage.objects.filter(pk__in=ids, attempts__lt=MAX_ATTEMPTS).update(
        status=OutboxMessage.Status.PENDING, error=error
    )


def _mark(messages, outcomes, *, channel: Channel, now: datetime) -> dict[int, str]:
    statuses: dict[int, str] = {}
    sent = [m for m in messages if outcomes.get(m.pk, Outcome(RETRY)).status == SENT]
    with transaction.atomic():
        OutboxMessage.objects.filter(pk__in=[m.pk for m in sent]).update(
            status=OutboxMessage.Status.SENT, sent_at=now, error=""
        )
        statuses.update(dict.fromkeys((m.pk for m in sent), OutboxMessage.Status.SENT))
        for message in messages:
            outcome = outcomes.get(message.pk, Outcome(RETRY, "the channel gave no answer"))
            if outcome.status == FAILED:
                OutboxMessage.objects.filter(pk=message.pk).update(
                    status=OutboxMessage.Status.FAILED, error=outcome.error
                )
                statuses[message.pk] = OutboxMessage.Status.FAILED
            elif outcome.status == RETRY:
                _back([message], outcome.error)
                statuses[message.pk] = OutboxMessage.Status.PENDING
        by_origin: dict[tuple[str, int | None], list[OutboxMessage]] = defaultdict(list)
        for message in sent:
            by_origin[message.origin_type, message.origin_id].append(message)
        origins = origins_describe(by_origin)
        for key, batch in by_origin.items():
            origin = origins.get(key)
            if origin is None:
                continue  # no one to credit: a message written outside any campaign
            with acting_as(origin.actor):
                action_record_many(
                    entries=(
                        ActionEntry(
                            category=channel.category,
                            verb=channel.verb,
                            contact_id=message.contact_id,
                            origin=origin,
                            channel=message.channel,
                            details={"subject": outcomes[message.pk].subject, "message": message.pk},
                            occurred_at=now,
                        )
                        for message in batch
                    )
                )
    return statuses


def outbox_flush(*, now: datetime, older_than: timedelta = timedelta(seconds=20), limit: int = 5_000) -> int:
    """Pending messages written before `now - older_than`, delivered in batches; how many went
    out. Those of channels without a sender stay pending."""
    ids = list(
        OutboxMessage.objects.filter(
            status=OutboxMessage.Status.PENDING, channel__in=list(CHANNELS), created_at__lte=now - older_than
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for start in range(0, len(ids), BATCH_SIZE):
        statuses = outbox_deliver_batch(message_ids=ids[start : start + BATCH_SIZE], now=now)
        sent += sum(1 for status in statuses.values() if status == OutboxMessage.Status.SENT)
    return sent
