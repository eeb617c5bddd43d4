"""Reads of the suppression list: one address, or a whole set of contacts in SQL."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db.models import CharField, Exists, Func, OuterRef, QuerySet

from contacts.models import Contact, Suppression
from contacts.normalize import normalize_email, normalize_phone

# The contact field that holds each channel's address, stored already normalised.
ADDRESS_FIELD = {"email": "email", "sms": "phone"}


class Sha256Hex(Func):
    """SHA-256 of a text column in lower-case hex, computed by PostgreSQL's own sha256()
    (no extension needed): the same digest as hashlib.sha256(value.encode()).hexdigest()."""

    template = "encode(sha256(convert_to(%(expressions)s, 'UTF8')), 'hex')"
    output_field = CharField()


def address_normalise(*, channel: str, address: str) -> str:
    """The form an address is hashed in: the lower-case e-mail, the E.164 phone number.
    An address the normaliser refuses (a bounce may name an odd one) is trimmed and
    lower-cased, so the same odd address still meets its own hash."""
    if channel not in ADDRESS_FIELD:
        raise ValueError(f"suppression channel must be 'email' or 'sms', not {channel!r}")
    normalise = normalize_email if channel == "email" else normalize_phone
    try:
        return normalise(address)
    except ValidationError:
        return (address or "").strip().lower()


def address_hash(*, channel: str, address: str) -> str:
    normalised = address_normalise(channel=channel, address=address)
    if not normalised:
        raise ValueError(f"an address is required to look up the {channel} suppression list")
    return hashlib.sha256(normalised.encode()).hexdigest()


def suppression_get(*, channel: str, address: str) -> Suppression | None:
    """The entry that keeps this address from being sent to, if any."""
    if not (address or "").strip():
        return None
    return Suppression.objects.filter(
        channel=channel, address_hash=address_hash(channel=channel, address=address)
    ).first()


def suppressed_exists(*, channel: str, field: str | None = None) -> Exists:
    """True for a contact whose address on the channel is on the list: hashed by PostgreSQL
    (sha256 of the stored, normalised address), so a whole segment is checked in one query."""
    field = field or ADDRESS_FIELD[channel]
    return Exists(Suppression.objects.filter(channel=channel, address_hash=Sha256Hex(OuterRef(field))))


def contact_list_not_suppressed(*, contacts: QuerySet[Contact], channel: str) -> QuerySet[Contact]:
    """The contacts that may be sent to on the channel as far as the list is concerned."""
    return contacts.exclude(suppressed_exists(channel=channel))
