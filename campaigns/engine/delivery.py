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

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from campaigns.channels import email
from campaigns.channels.base import FAILED, RETRY, SENT, Outcome
from campaigns.engine.advance import campaign_actor
from campaigns.models import Campaign, OutboxMessage
from ledger.context import acting_as
from ledger.models import Category
from ledger.services import ActionEntry, action_record_many

MAX_ATTEMPTS = 5
BATCH_SIZE = 200


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
        from campaigns.channels.delivery import channel_deliver  # one at a time, with retries of their own

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
        # Their campaigns read once (not a copy per message): the name for the templates, the
        # actor for the ledger.
        campaigns = Campaign.objects.in_bulk({m.campaign_id for m in messages if m.campaign_id})
        for message in messages:
            if message.campaign_id in campaigns:
                message.campaign = campaigns[message.campaign_id]
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
        by_campaign: dict[int | None, list[OutboxMessage]] = defaultdict(list)
        for message in sent:
            by_campaign[message.campaign_id].append(message)
        for campaign_id, batch in by_campaign.items():
            if OutboxMessage.campaign.is_cached(batch[0]):  # read with the claim
                campaign = batch[0].campaign
            else:
                campaign = Campaign.objects.filter(pk=campaign_id).first() if campaign_id else None
            if campaign is None:
                continue
            with acting_as(campaign_actor(campaign)):
                action_record_many(
                    entries=(
                        ActionEntry(
                            category=channel.category,
                            verb=channel.verb,
                            contact_id=message.contact_id,
                            obj=campaign,
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
