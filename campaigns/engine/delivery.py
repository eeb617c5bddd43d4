"""Delivering outbox messages: claimed, sent, marked.

A message goes pending -> sending (committed before the provider is called) -> sent. A
crash after the send leaves it in `sending`, which people reconcile from the admin rather
than have it sent blindly again. Consent is checked at send time, not at queue time.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from campaigns.channels.gates import send_refusal
from campaigns.engine.advance import campaign_actor
from campaigns.models import Campaign, OutboxMessage
from contacts.models import Contact
from ledger.context import acting_as
from ledger.models import Category
from ledger.services import action_record

MAX_ATTEMPTS = 5


def outbox_deliver(*, message_id: int, now: datetime) -> str:
    channel = OutboxMessage.objects.filter(pk=message_id).values_list("channel", flat=True).first()
    if channel in (OutboxMessage.Channel.SMS, OutboxMessage.Channel.WEBHOOK):
        from campaigns.channels.delivery import channel_deliver

        return channel_deliver(message_id=message_id, now=now)
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return "skipped"  # sent, being sent, or held by another worker
        contact = Contact.objects.get(pk=message.contact_id)
        refusal = send_refusal(message=message, contact=contact)  # consent and the suppression list
        if refusal:
            message.status = OutboxMessage.Status.SUPPRESSED
            message.error = refusal
            message.save(update_fields=["status", "error"])
            return message.status
        message.status = OutboxMessage.Status.SENDING
        message.attempts += 1
        message.save(update_fields=["status", "attempts"])
    try:
        EmailMessage(
            subject=message.payload["subject"],
            body=message.payload["body"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.payload["to"]],
            headers={"X-Message-Key": message.key},
        ).send()
    except Exception as error:
        failed = message.attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.FAILED if failed else OutboxMessage.Status.PENDING, error=str(error)
        )
        raise
    campaign = Campaign.objects.filter(pk=message.campaign_id).first()
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.SENT, sent_at=now, error=""
        )
        if campaign is not None:
            with acting_as(campaign_actor(campaign)):
                action_record(
                    category=Category.EMAIL,
                    verb="email.sent",
                    contact_id=message.contact_id,
                    obj=campaign,
                    channel="email",
                    details={"subject": message.payload["subject"], "message": message.pk},
                    occurred_at=now,
                )
    return OutboxMessage.Status.SENT
