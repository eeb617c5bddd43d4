"""What comes back from the channels: bounces and spam complaints from the e-mail provider,
STOP replies to SMS.

Each becomes a touchpoint of the contact and an action in the ledger; a hard bounce, a
complaint and a STOP put the address on the suppression list, and the messages still
waiting for that address are suppressed at once (one UPDATE), so nothing more goes out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from contacts.models import ConsentStatus, Contact, SuppressionReason, Touchpoint
from contacts.normalize import normalize_phone
from contacts.selectors import address_normalise
from contacts.services import contact_consent_set, suppression_add, touchpoint_create
from ledger.models import Category
from ledger.services import action_record
from messaging.models import OutboxMessage

BOUNCE, COMPLAINT = "bounce", "complaint"
HARD, SOFT = "hard", "soft"

# The opt-out and opt-in words carriers and Twilio recognise (CTIA), plus French ARRET.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "ARRET"}
START_WORDS = {"START", "UNSTOP", "YES"}


@dataclass(frozen=True)
class EmailFeedback:
    type: str  # bounce | complaint
    email: str
    bounce_type: str = HARD  # hard | soft (bounces only)
    message_id: str = ""
    detail: str = ""


@dataclass
class FeedbackResult:
    recorded: int = 0
    duplicates: int = 0
    suppressed_addresses: int = 0
    suppressed_messages: int = 0


def _external_id(*parts: str) -> str:
    return "feedback:" + hashlib.sha256(":".join(parts).encode()).hexdigest()[:40]


def pending_messages_suppress(*, channel: str, address: str, contact_ids: list[int], reason: str) -> int:
    """Messages not yet sent to this address (by its contacts, or named in the payload) are
    suppressed: one UPDATE."""
    return (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, channel=channel)
        .filter(Q(contact_id__in=contact_ids) | Q(payload__to=address))
        .update(status=OutboxMessage.Status.SUPPRESSED, error=reason, next_attempt_at=None)
    )


@transaction.atomic
def email_feedback_record(*, events: list[EmailFeedback], source: str) -> FeedbackResult:
    """Record bounces and complaints reported by the e-mail provider. A repeated report (same
    type, address and message id) is counted as a duplicate and changes nothing."""
    result = FeedbackResult()
    for event in events:
        email = address_normalise(channel="email", address=event.email)
        if not email:
            continue
        external_id = _external_id(event.type, email, event.message_id) if event.message_id else None
        if external_id and Touchpoint.objects.filter(external_id=external_id).exists():
            result.duplicates += 1
            continue
        contacts = list(Contact.objects.filter(email=email))
        hard = event.type == COMPLAINT or event.bounce_type == HARD
        verb = "email.complained" if event.type == COMPLAINT else f"email.bounced_{event.bounce_type}"
        properties = {"source": source}
        if event.type == BOUNCE:
            properties["bounce_type"] = event.bounce_type
        if event.message_id:
            properties["message_id"] = event.message_id
        for contact in contacts:
            touchpoint_create(
                contact=contact,
                kind="email_complaint" if event.type == COMPLAINT else "email_bounce",
                channel="email",
                source=source[:100],
                properties=properties,
                external_id=external_id if contact is contacts[0] else None,
            )
            action_record(
                category=Category.EMAIL, verb=verb, contact_id=contact.pk, channel="email", details=properties
            )
            if event.type == COMPLAINT:
                contact_consent_set(
                    contact=contact,
                    channel="email",
                    status=ConsentStatus.UNSUBSCRIBED,
                    source=f"spam complaint reported by {source}"[:200],
                )
        if not contacts:
            action_record(category=Category.EMAIL, verb=verb, channel="email", details=properties)
        result.recorded += 1
        if not hard:
            continue
        reason = SuppressionReason.COMPLAINT if event.type == COMPLAINT else SuppressionReason.HARD_BOUNCE
        _, created = suppression_add(
            channel="email",
            address=email,
            reason=reason,
            detail=event.detail,
            contact_id=contacts[0].pk if contacts else None,
        )
        result.suppressed_addresses += int(created)
        result.suppressed_messages += pending_messages_suppress(
            channel="email",
            address=email,
            contact_ids=[contact.pk for contact in contacts],
            reason=f"the address is on the suppression list ({reason.label.lower()})",
        )
    return result


@dataclass
class SmsReplyResult:
    keyword: str = ""
    contacts: int = 0
    suppressed_messages: int = 0


@transaction.atomic
def sms_reply_receive(*, from_number: str, body: str, source: str) -> SmsReplyResult:
    """An SMS a person sent us. STOP (and the other opt-out words) unsubscribes every contact
    with that number from SMS and suppresses the number; START takes them back."""
    try:
        phone = normalize_phone(from_number)
    except Exception:
        return SmsReplyResult()
    if not phone:
        return SmsReplyResult()
    word = body.strip().split()[0].upper().rstrip(".!") if body.strip() else ""
    keyword = "STOP" if word in STOP_WORDS else "START" if word in START_WORDS else ""
    contacts = list(Contact.objects.filter(phone=phone).order_by("pk"))
    result = SmsReplyResult(keyword=keyword, contacts=len(contacts))
    for contact in contacts:
        touchpoint_create(
            contact=contact,
            kind="sms_reply",
            channel="sms",
            source=source[:100],
            text=body[:1600],
            properties={"keyword": keyword} if keyword else {},
        )
        if keyword:
            contact_consent_set(
                contact=contact,
                channel="sms",
                status=ConsentStatus.UNSUBSCRIBED if keyword == "STOP" else ConsentStatus.SUBSCRIBED,
                source=f"{keyword} reply by SMS",
                evidence={"keyword": word, "via": source},
            )
    if keyword == "STOP":
        suppression_add(
            channel="sms",
            address=phone,
            reason=SuppressionReason.STOP,
            detail=f"replied {word}",
            contact_id=contacts[0].pk if contacts else None,
        )
        result.suppressed_messages = pending_messages_suppress(
            channel="sms",
            address=phone,
            contact_ids=[contact.pk for contact in contacts],
            reason="the contact replied STOP",
        )
    elif keyword == "START":
        from contacts.models import Suppression
        from contacts.selectors import address_hash
        from contacts.services import suppression_remove

        for suppression in Suppression.objects.filter(
            channel="sms",
            address_hash=address_hash(channel="sms", address=phone),
            reason=SuppressionReason.STOP,
        ):
            suppression_remove(suppression=suppression)
    return result
