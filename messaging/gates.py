"""The first gate at send time, for every channel: consent and the suppression list.

A suppressed address is never sent to, whatever the campaign says; the message is marked
suppressed with the reason instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from contacts.models import ConsentStatus, Contact, Suppression
from contacts.selectors import address_hash, suppression_get
from messaging.models import OutboxMessage

# Erased contacts keep their row (aggregate counts survive) with an address in this
# reserved domain (RFC 2606), which no message may ever go to.
ERASED_DOMAIN = "erased.invalid"


def send_refusal(*, message: OutboxMessage, contact: Contact) -> str:
    """Why this message must not be sent, or "" when it may go."""
    if contact.email.endswith(f"@{ERASED_DOMAIN}"):
        return "the contact's personal data was erased on request"
    channel = message.channel
    payload = message.payload if isinstance(message.payload, dict) else {}
    if channel == OutboxMessage.Channel.EMAIL:
        if contact.consent_email == ConsentStatus.UNSUBSCRIBED:
            return "the contact unsubscribed from e-mail"
        return _suppressed("email", payload.get("to") or contact.email)
    if channel == OutboxMessage.Channel.SMS:
        # SMS needs an explicit opt-in (US TCPA, EU ePrivacy), not just the absence of an opt-out.
        if contact.consent_sms != ConsentStatus.SUBSCRIBED:
            return (
                "the contact unsubscribed from SMS"
                if contact.consent_sms == ConsentStatus.UNSUBSCRIBED
                else "the contact never agreed to receive SMS"
            )
        phone = payload.get("to") or contact.phone
        if not phone:
            return "the contact has no phone number"
        return _suppressed("sms", phone)
    if channel == OutboxMessage.Channel.WEBHOOK:
        # A webhook carries the contact's data elsewhere: not for someone who asked to be forgotten.
        suppression = suppression_get(channel="email", address=contact.email)
        if suppression is not None and suppression.reason == suppression.Reason.ERASED:
            return "the contact asked for their data to be erased"
        return ""
    return f"unknown channel {channel!r}"


def email_refusals(messages: Sequence[OutboxMessage]) -> dict[int, str]:
    """`send_refusal` for a batch of e-mails, in two queries whatever its size: why each
    message that must not go out is held back."""
    contacts = {
        pk: (email, consent)
        for pk, email, consent in Contact.objects.filter(pk__in={m.contact_id for m in messages}).values_list(
            "pk", "email", "consent_email"
        )
    }
    hashes = {}
    for message in messages:
        payload = message.payload if isinstance(message.payload, dict) else {}
        stored = contacts.get(message.contact_id, ("", ""))[0]
        address = payload.get("to") or stored
        if address and address == stored:
            # The contact's address is stored normalised (as `suppressed_exists` hashes it in
            # SQL): its hash needs no second syntax check, the costliest step of the gate.
            hashes[message.pk] = hashlib.sha256(address.encode()).hexdigest()
        elif (address or "").strip():
            hashes[message.pk] = address_hash(channel="email", address=address)
    listed = {
        entry.address_hash: entry
        for entry in Suppression.objects.filter(channel="email", address_hash__in=set(hashes.values()))
    }
    refusals = {}
    for message in messages:
        email, consent = contacts.get(message.contact_id, ("", ""))
        if email.endswith(f"@{ERASED_DOMAIN}"):
            refusals[message.pk] = "the contact's personal data was erased on request"
        elif consent == ConsentStatus.UNSUBSCRIBED:
            refusals[message.pk] = "the contact unsubscribed from e-mail"
        elif hashes.get(message.pk) in listed:
            refusals[message.pk] = _listed(listed[hashes[message.pk]])
    return refusals


def _listed(suppression: Suppression) -> str:
    return f"the address is on the suppression list ({suppression.get_reason_display().lower()})"


def _suppressed(channel: str, address: str) -> str:
    suppression = suppression_get(channel=channel, address=address)
    return "" if suppression is None else _listed(suppression)
