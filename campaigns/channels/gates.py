"""The first gate at send time, for every channel: consent and the suppression list.

A suppressed address is never sent to, whatever the campaign says; the message is marked
suppressed with the reason instead.
"""

from __future__ import annotations

from campaigns.models import OutboxMessage
from contacts.models import ConsentStatus, Contact
from contacts.selectors import suppression_get

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


def _suppressed(channel: str, address: str) -> str:
    suppression = suppression_get(channel=channel, address=address)
    if suppression is None:
        return ""
    return f"the address is on the suppression list ({suppression.get_reason_display().lower()})"
