"""What people do with an e-mail, recorded: opens, clicks, unsubscribes, preferences.

Opens and clicks become touchpoints of the contact (`email_open`, `email_click`) through
the touchpoint service, so segments, intents and campaign triggers see them like any other.
An unsubscribe changes consent through the contacts service (with its evidence) and is a
touchpoint of kind `unsubscribe`. The actor is the software acting on the contact's own
request: algorithmic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction

from contacts.models import ConsentStatus, Contact, Touchpoint
from contacts.services import contact_consent_set, touchpoint_create
from ledger.context import ALGORITHMIC, Actor
from messaging.models import OutboxMessage

EMAIL_LINKS = Actor(kind=ALGORITHMIC, type="system", name="e-mail links")


def _once(*, contact: Contact, kind: str, external_id: str, properties: dict) -> Touchpoint | None:
    """A touchpoint unless one with the same key exists (a second open of the same e-mail)."""
    if Touchpoint.objects.filter(external_id=external_id).exists():
        return None
    try:
        with transaction.atomic():
            return touchpoint_create(
                contact=contact,
                kind=kind,
                channel="email",
                source="e-mail",
                properties=properties,
                external_id=external_id,
            )
    except IntegrityError:  # the same open arriving twice at once
        return None


def _about(message: OutboxMessage) -> dict[str, Any]:
    about: dict[str, Any] = {"message": message.pk}
    if message.origin_type and message.origin_id is not None:
        about[message.origin_type] = message.origin_id  # {"campaign": 12}
    if message.payload.get("template"):
        about["template"] = message.payload["template"]
    return about


def email_open_record(*, message: OutboxMessage) -> Touchpoint | None:
    """The first open of an e-mail (later ones change nothing)."""
    contact = Contact.objects.get(pk=message.contact_id)
    return _once(
        contact=contact,
        kind="email_open",
        external_id=f"email_open:{message.key}",
        properties=_about(message),
    )


def email_click_record(*, message: OutboxMessage, url: str) -> Touchpoint | None:
    """The first click of each link of an e-mail."""
    contact = Contact.objects.get(pk=message.contact_id)
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return _once(
        contact=contact,
        kind="email_click",
        external_id=f"email_click:{message.key}:{digest}",
        properties={**_about(message), "url": url[:2000]},
    )


@transaction.atomic
def contact_preferences_set(
    *,
    contact: Contact,
    wanted: Mapping[str, bool],
    method: str,
    message: OutboxMessage | None,
    evidence: Mapping[str, Any],
) -> list[str]:
    """Consent per channel as the contact chose it ({"email": False, "sms": True}); the
    channels that changed. Each withdrawal is also an `unsubscribe` touchpoint."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    changed = []
    for channel, wants in wanted.items():
        status = ConsentStatus.SUBSCRIBED if wants else ConsentStatus.UNSUBSCRIBED
        change = contact_consent_set(
            contact=contact,
            channel=channel,
            status=status,
            source=f"e-mail {method}",
            evidence={**evidence, "method": method, **({"message": message.key} if message else {})},
        )
        if change is None:
            continue
        changed.append(channel)
        if not wants:
            touchpoint_create(
                contact=contact,
                kind="unsubscribe",
                channel="email",
                source=f"e-mail {method}",
                properties={"channel": channel, "method": method, **(_about(message) if message else {})},
            )
    return changed


def contact_unsubscribe(
    *, contact: Contact, method: str, message: OutboxMessage | None, evidence: Mapping[str, Any]
) -> bool:
    """Withdraw e-mail consent (one click or the confirmation page); whether it changed."""
    return bool(
        contact_preferences_set(
            contact=contact, wanted={"email": False}, method=method, message=message, evidence=evidence
        )
    )
