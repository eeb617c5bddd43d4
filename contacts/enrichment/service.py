"""Fill what is empty on contacts from the providers' suggestions, as algorithmic work."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.enrichment.providers import (
    FIELDS,
    BuiltinProvider,
    ContactFacts,
    EnrichmentError,
    HttpProvider,
    Provider,
)
from contacts.models import Contact
from contacts.normalize import normalize_timezone
from ledger.models import Category
from ledger.services import ActionEntry, action_record_many

log = logging.getLogger(__name__)


def default_providers() -> list[Provider]:
    providers: list[Provider] = [BuiltinProvider()]
    if settings.ENRICHMENT_HTTP_URL:
        providers.append(HttpProvider(url=settings.ENRICHMENT_HTTP_URL, token=settings.ENRICHMENT_HTTP_TOKEN))
    return providers


def _valid(field: str, value) -> bool:
    if field == "country":
        from django_countries import countries

        return value.upper() in countries
    if field == "timezone":
        try:
            normalize_timezone(value)
        except ValidationError:
            return False
    return True


@transaction.atomic
def contacts_enrich(*, contact_ids: Sequence[int], providers: Sequence[Provider] | None = None) -> int:
    """Returns how many contacts gained something. A provider that fails is logged and
    skipped: the others still enrich."""
    providers = default_providers() if providers is None else providers
    rows = list(
        Contact.objects.filter(pk__in=contact_ids)
        .order_by("pk")
        .values("pk", "email", "phone", *[f for f in FIELDS if f != "account_id"], "account_id")
    )
    facts = [
        ContactFacts(id=row["pk"], email=row["email"], phone=row["phone"], country=row["country"], values=row)
        for row in rows
    ]
    fills: dict[int, dict[str, tuple]] = {}
    for provider in providers:
        try:
            suggestions = provider.suggest_many(facts)
        except EnrichmentError as error:
            log.warning("enrichment provider %s skipped: %s", provider.name, error)
            continue
        for contact in facts:
            for field, value in suggestions.get(contact.id, {}).items():
                taken = fills.get(contact.id, {})
                if contact.values.get(field) in (None, "") and field not in taken and _valid(field, value):
                    fills.setdefault(contact.id, {})[field] = (
                        value.upper() if field == "country" else value,
                        provider.name,
                    )
    if not fills:
        return 0
    now = timezone.now()
    changed = []
    for contact_id, taken in fills.items():
        contact = Contact(pk=contact_id, updated_at=now)
        for field, (value, _) in taken.items():
            setattr(contact, field, value)
        changed.append(contact)
    for fields in {tuple(sorted(taken)) for taken in fills.values()}:
        Contact.objects.bulk_update(
            [c for c in changed if tuple(sorted(fills[c.pk])) == fields], [*fields, "updated_at"]
        )
    action_record_many(
        entries=[
            ActionEntry(
                category=Category.ENRICHMENT,
                verb="contact.enriched",
                contact_id=contact_id,
                details={field: {"value": value, "provider": name} for field, (value, name) in taken.items()},
            )
            for contact_id, taken in fills.items()
        ]
    )
    return len(fills)


def enrich_announced_contacts(sender, *, touchpoint_ids: list[int], **kwargs) -> None:
    """New touchpoints often come with new contacts: enrich them in the same worker task."""
    from contacts.models import Touchpoint

    contact_ids = sorted(
        set(Touchpoint.objects.filter(pk__in=touchpoint_ids).values_list("contact_id", flat=True))
    )
    contacts_enrich(contact_ids=contact_ids)
