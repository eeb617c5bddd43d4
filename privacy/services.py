"""A person's rights over their data: a copy of it (export) and its erasure (GDPR Art. 15
and 17).

Every app that holds something about a person registers its part (contacts.personal_data):
what it adds to the export, and how it erases what it holds, with its own services. This app
runs them all, then takes the person's values out of the ledger's details and the admin's
history, and records what it did. It imports no app above contacts: a new app that keeps
personal data brings its part along.

Erasure keeps the rows that counts are made of (the contact, its touchpoints, enrollments,
messages and ledger actions: who acted, in which category, when) and removes what says who
the person is. The e-mail and phone are kept only as SHA-256 hashes on the suppression list,
so the person is never sent to again even if their address is imported anew.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from contacts.personal_data import ERASED_DOMAIN, PERSONAL_FIELDS, personal_data_parts
from ledger.erasure import actions_personal_values_scrub, scrubbed
from ledger.models import Category
from ledger.services import action_record

MIN_MATCH = 3  # shorter values ("Al") would wipe unrelated words


def contact_export(*, contact: Contact) -> dict[str, Any]:
    """Everything held about the contact, as one JSON-ready document. Recorded as an action."""
    document: dict[str, Any] = {"exported_at": timezone.now().isoformat()}
    for part in personal_data_parts():
        document.update(part.export(contact))
    action_record(
        category=Category.DATA_HYGIENE,
        verb="contact.exported",
        contact_id=contact.pk,
        obj=contact,
        details={
            "touchpoints": len(document.get("touchpoints", [])),
            "messages": len(document.get("messages", [])),
        },
    )
    return document


def _needles(contact: Contact) -> list[str]:
    """The contact's personal values, lower-cased: what must not survive anywhere. Touchpoint
    texts reach the ledger only as labelled examples (a part's values): those are looked for,
    not the whole history (a long one would make the search itself long)."""
    values = {str(getattr(contact, field) or "") for field in PERSONAL_FIELDS}
    values.add(f"{contact.first_name} {contact.last_name}".strip())
    values.update(str(value) for value in contact.attributes.values() if isinstance(value, (str, int, float)))
    for part in personal_data_parts():
        values.update(part.values(contact))
    return sorted({value.strip().lower() for value in values if len(value.strip()) >= MIN_MATCH})


@transaction.atomic
def contact_erase(*, contact: Contact, reason: str = "") -> dict[str, int]:
    """Erase the person's data and keep their addresses only as hashes on the suppression list.
    Returns what was erased, by kind. Recorded as an action (with no personal value)."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.email.endswith(f"@{ERASED_DOMAIN}"):
        return {"already_erased": 1}
    needles = _needles(contact)
    counts: dict[str, int] = {}
    for part in personal_data_parts():
        counts.update(part.erase(contact))
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk)
    ).update(object_repr=f"erased contact {contact.pk}", change_message="")
    counts["ledger_rows"] = actions_personal_values_scrub(contact_id=contact.pk, needles=needles)
    action_record(
        category=Category.DATA_HYGIENE,
        verb="contact.erased",
        contact_id=contact.pk,
        obj=contact,
        details={"reason": scrubbed(reason[:200], needles=needles, all_personal=False)[0], **counts}
        if reason
        else counts,
    )
    return counts
