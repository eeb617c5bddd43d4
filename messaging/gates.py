"""The gate every message passes at send time, whatever its channel: consent and the
suppression list.

A suppressed address is never sent to, whatever the campaign says; the message is marked
suppressed with the reason instead. One pass for a whole batch: the contacts in one query,
the suppression list in one more per channel, whatever the batch's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from contacts.models import ConsentStatus, Contact, Suppression, SuppressionReason
from contacts.personal_data import ERASED_DOMAIN
from contacts.selectors import address_hash
from messaging.models import OutboxMessage

Channel = OutboxMessage.Channel


def refusals(messages: Sequence[OutboxMessage]) -> dict[int, str]:
    """Why each message that must not go out is held back; those absent may go."""
    people = {
        row[0]: row[1:]
        for row in Contact.objects.filter(pk__in={m.contact_id for m in messages}).values_list(
            "pk", "email", "phone", "consent_email", "consent_sms"
        )
    }
    refused: dict[int, str] = {}
    addresses: dict[int, tuple[str, str]] = {}  # message -> (suppression channel, address hash)
    for message in messages:
        email, phone, consent_email, consent_sms = people.get(message.contact_id, ("", "", "", ""))
        payload = message.payload if isinstance(message.payload, dict) else {}
        if email.endswith(f"@{ERASED_DOMAIN}"):
            refused[message.pk] = "the contact's personal data was erased on request"
        elif message.channel == Channel.EMAIL:
            if consent_email == ConsentStatus.UNSUBSCRIBED:
                refused[message.pk] = "the contact unsubscribed from e-mail"
            elif hashed := _hash("email", payload.get("to") or email, stored=email):
                addresses[message.pk] = ("email", hashed)
        elif message.channel == Channel.SMS:
            # SMS needs an explicit opt-in (US TCPA, EU ePrivacy), not just the absence of an opt-out.
            if consent_sms == ConsentStatus.UNSUBSCRIBED:
                refused[message.pk] = "the contact unsubscribed from SMS"
            elif consent_sms != ConsentStatus.SUBSCRIBED:
                refused[message.pk] = "the contact never agreed to receive SMS"
            elif not (payload.get("to") or phone):
                refused[message.pk] = "the contact has no phone number"
            elif hashed := _hash("sms", payload.get("to") or phone):
                addresses[message.pk] = ("sms", hashed)
        elif message.channel == Channel.WEBHOOK:
            # A webhook carries the contact's data elsewhere: not for someone who asked to be
            # forgotten (their address is on the list for that reason, whatever it is now).
            if hashed := _hash("email", email, stored=email):
                addresses[message.pk] = ("webhook", hashed)
        else:
            refused[message.pk] = f"unknown channel {message.channel!r}"
    listed = _listed(addresses.values())
    for message_id, (kind, hashed) in addresses.items():
        if kind == "webhook":
            entry = listed.get(("email", hashed))
            if entry is not None and entry.reason == SuppressionReason.ERASED:
                refused[message_id] = "the contact asked for their data to be erased"
        elif (kind, hashed) in listed:
            refused[message_id] = _why(listed[kind, hashed])
    return refused


def _hash(channel: str, address: str, *, stored: str = "") -> str:
    """The address's hash as the suppression list keeps it. A contact's stored e-mail is
    normalised already (as `suppressed_exists` hashes it in SQL): it needs no second syntax
    check, the costliest step of the gate."""
    if address and address == stored:
        return hashlib.sha256(address.encode()).hexdigest()
    try:
        return address_hash(channel=channel, address=address or "")
    except ValueError:  # no address that could be listed; sending to it fails on its own
        return ""


def _listed(keys) -> dict[tuple[str, str], Suppression]:
    wanted: dict[str, set[str]] = {}
    for kind, hashed in keys:
        wanted.setdefault("email" if kind == "webhook" else kind, set()).add(hashed)
    listed = {}
    for channel, hashes in wanted.items():
        for entry in Suppression.objects.filter(channel=channel, address_hash__in=hashes):
            listed[channel, entry.address_hash] = entry
    return listed


def _why(suppression: Suppression) -> str:
    return f"the address is on the suppression list ({suppression.get_reason_display().lower()})"
