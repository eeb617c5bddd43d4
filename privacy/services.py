"""A person's rights over their data: a copy of it (export) and its erasure (GDPR Art. 15
and 17).

It lives in campaigns because erasure must reach every app that holds personal data, and
campaigns sees all of them below it (contacts, intents, segments, ledger).

Erasure keeps the rows that counts are made of (the contact, its touchpoints, enrollments,
messages and ledger actions: who acted, in which category, when) and removes what says who
the person is: personal fields, touchpoint texts and properties, message payloads, consent
evidence, personal values in the ledger's details and in the admin's history. The e-mail
and phone are kept only as SHA-256 hashes on the suppression list, so the person is never
sent to again even if their address is imported anew.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from campaigns.models import LIVE, Enrollment, EnrollmentStatus, StepRun
from contacts.models import ConsentChange, Contact, SuppressionReason, Touchpoint
from contacts.services import suppression_add
from intents.models import IntentExample, TouchpointIntent
from ledger.models import Action, Category
from ledger.services import action_record
from messaging.gates import ERASED_DOMAIN
from messaging.models import DeliveryAttempt, OutboxMessage
from segments.models import Membership

ERASED = "[erased]"
PERSONAL_FIELDS = ("email", "first_name", "last_name", "phone", "job_title", "city")
# Keys whose values in a ledger row of the contact are personal whatever they hold.
PERSONAL_KEYS = {
    *PERSONAL_FIELDS,
    "to",
    "subject",
    "body",
    "text",
    "address",
    "name",
    "attributes",
    "external_id",
}
MIN_MATCH = 3  # shorter values ("Al") would wipe unrelated words


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_export(*, contact: Contact) -> dict[str, Any]:
    """Everything held about the contact, as one JSON-ready document. Recorded as an action."""
    # E-mails are rendered when delivered: what a sent one said is in its ledger action.
    subjects = {
        details.get("message"): details.get("subject")
        for details in Action.objects.filter(contact_id=contact.pk, verb="email.sent").values_list(
            "details", flat=True
        )
        if isinstance(details, dict) and details.get("subject")
    }
    touchpoints = [
        {
            "kind": row["kind_id"],
            "channel": row["channel"],
            "occurred_at": _iso(row["occurred_at"]),
            "source": row["source"],
            "text": row["text"],
            "properties": row["properties"],
            "external_id": row["external_id"],
            "intent": row["intent"],
        }
        for row in Touchpoint.objects.filter(contact=contact)
        .order_by("occurred_at", "pk")
        .values("kind_id", "channel", "occurred_at", "source", "text", "properties", "external_id", "intent")
        .iterator(chunk_size=2000)
    ]
    document = {
        "exported_at": timezone.now().isoformat(),
        "contact": {
            "id": contact.pk,
            **{field: getattr(contact, field) for field in PERSONAL_FIELDS},
            "country": str(contact.country or ""),
            "timezone": contact.timezone,
            "lifecycle_stage": contact.lifecycle_stage,
            "source": contact.source,
            "score": contact.score,
            "account": contact.account.name if contact.account_id else None,
            "tags": sorted(contact.tags.values_list("name", flat=True)),
            "attributes": contact.attributes,
            "created_at": _iso(contact.created_at),
            "updated_at": _iso(contact.updated_at),
        },
        "consent": {"email": contact.consent_email, "sms": contact.consent_sms},
        "consent_history": [
            {
                "channel": change.channel,
                "status": change.status,
                "previous_status": change.previous_status,
                "changed_at": _iso(change.changed_at),
                "by": change.actor_name,
                "source": change.source,
                "evidence": change.evidence,
            }
            for change in ConsentChange.objects.filter(contact=contact).order_by("changed_at", "pk")
        ],
        "touchpoints": touchpoints,
        "segments": sorted(
            Membership.objects.filter(contact=contact).values_list("segment__name", flat=True)
        ),
        "enrollments": [
            {
                "campaign": enrollment.campaign.name,
                "status": enrollment.status,
                "step": enrollment.step_key,
                "entered_at": _iso(enrollment.entered_at),
                "finished_at": _iso(enrollment.finished_at),
            }
            for enrollment in Enrollment.objects.filter(contact=contact)
            .select_related("campaign")
            .order_by("entered_at", "pk")
        ],
        "messages": [
            {
                "channel": message.channel,
                "status": message.status,
                "created_at": _iso(message.created_at),
                "sent_at": _iso(message.sent_at),
                "payload": message.payload,
                **({"subject": subjects[message.pk]} if message.pk in subjects else {}),
            }
            for message in OutboxMessage.objects.filter(contact_id=contact.pk).order_by("created_at", "pk")
        ],
    }
    action_record(
        category=Category.DATA_HYGIENE,
        verb="contact.exported",
        contact_id=contact.pk,
        obj=contact,
        details={"touchpoints": len(touchpoints), "messages": len(document["messages"])},
    )
    return document


def _scrub(value: Any, *, needles: list[str], all_personal: bool) -> tuple[Any, bool]:
    """The value with every personal string replaced; and whether anything changed."""
    if isinstance(value, dict):
        changed, result = False, {}
        for key, item in value.items():
            if all_personal and key in PERSONAL_KEYS and item not in ("", None, [], {}):
                result[key], changed = ERASED, True
                continue
            if key == "changes" and all_personal and isinstance(item, dict):
                # a field's old and new values: both personal when the field is
                item = {
                    field: [ERASED, ERASED] if field in PERSONAL_KEYS else pair
                    for field, pair in item.items()
                }
                changed = changed or item != value[key]
            result[key], sub = _scrub(item, needles=needles, all_personal=all_personal)
            changed = changed or sub
        return result, changed
    if isinstance(value, list):
        pairs = [_scrub(item, needles=needles, all_personal=all_personal) for item in value]
        return [item for item, _ in pairs], any(sub for _, sub in pairs)
    if isinstance(value, str):
        lowered = value.lower()
        if any(needle in lowered for needle in needles):
            return ERASED, True
    return value, False


def _needles(contact: Contact) -> list[str]:
    """The contact's personal values, lower-cased: what must not survive anywhere."""
    values = {str(getattr(contact, field) or "") for field in PERSONAL_FIELDS}
    values.add(f"{contact.first_name} {contact.last_name}".strip())
    values.update(str(value) for value in contact.attributes.values() if isinstance(value, (str, int, float)))
    # Touchpoint texts reach the ledger only as labelled examples; their ids and texts are
    # looked for, not the whole history (a long one would make the search itself long).
    values.update(IntentExample.objects.filter(touchpoint__contact=contact).values_list("text", flat=True))
    return sorted({value.strip().lower() for value in values if len(value.strip()) >= MIN_MATCH})


def _ledger_scrub(*, contact_id: int, needles: list[str]) -> int:
    """Personal values out of the ledger's details: every row of the contact, and any other
    row whose details mention one of the values (a deleted duplicate, a labelled text)."""
    mentions = Q()
    for needle in needles:
        mentions |= Q(details_text__icontains=needle)  # the JSON as text, case-insensitive
    rows = (
        Action.objects.annotate(details_text=Cast("details", TextField()))
        .filter(Q(contact_id=contact_id) | mentions)
        .only("pk", "contact_id", "details")
    )
    changed = []
    for action in rows.iterator(chunk_size=2000):
        details, dirty = _scrub(action.details, needles=needles, all_personal=action.contact_id == contact_id)
        if dirty:
            action.details = details
            changed.append(action)
    Action.objects.bulk_update(changed, ["details"], batch_size=2000)
    return len(changed)


def _changed_announce(*, contact_id: int) -> None:
    """Segments that read the wiped fields re-form for the contact, after commit."""

    def announce() -> None:
        from contacts.tasks import contacts_changed_task

        contacts_changed_task.delay(contact_ids=[contact_id], fields=[*PERSONAL_FIELDS, "attributes"])

    transaction.on_commit(announce)


@transaction.atomic
def contact_erase(*, contact: Contact, reason: str = "") -> dict[str, int]:
    """Erase the person's data and keep their addresses only as hashes on the suppression list.
    Returns what was erased, by kind. Recorded as an action (with no personal value)."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.email.endswith(f"@{ERASED_DOMAIN}"):
        return {"already_erased": 1}
    needles = _needles(contact)
    suppression_add(
        channel="email", address=contact.email, reason=SuppressionReason.ERASED, contact_id=contact.pk
    )
    if contact.phone:
        suppression_add(
            channel="sms", address=contact.phone, reason=SuppressionReason.ERASED, contact_id=contact.pk
        )

    touchpoints = Touchpoint.objects.filter(contact=contact)
    counts = {
        "touchpoints": touchpoints.update(text="", properties={}, external_id=None),
        "labelled_texts": IntentExample.objects.filter(touchpoint__contact=contact).delete()[0],
    }
    TouchpointIntent.objects.filter(touchpoint__contact=contact).update(explanation="")
    ConsentChange.objects.filter(contact=contact).update(evidence={}, source="")
    messages = OutboxMessage.objects.filter(contact_id=contact.pk)
    messages.filter(status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.SUPPRESSED, next_attempt_at=None
    )
    counts["messages"] = messages.update(payload={"erased": True}, error="")
    DeliveryAttempt.objects.filter(message__contact_id=contact.pk).update(error="")
    enrollments = Enrollment.objects.filter(contact_id=contact.pk)
    enrollments.filter(status__in=LIVE).update(
        status=EnrollmentStatus.EXITED, next_run_at=None, lease_until=None, finished_at=timezone.now()
    )
    counts["enrollments"] = enrollments.update(context={}, error="")
    StepRun.objects.filter(enrollment__contact_id=contact.pk).update(detail={})
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact), object_id=str(contact.pk)
    ).update(object_repr=f"erased contact {contact.pk}", change_message="")
    counts["ledger_rows"] = _ledger_scrub(contact_id=contact.pk, needles=needles)

    Contact.objects.filter(pk=contact.pk).update(
        email=f"erased-{contact.pk}@{ERASED_DOMAIN}",
        first_name="", last_name="", phone="", job_title="", city="",
        attributes={}, updated_at=timezone.now(),
    )  # fmt: skip
    _changed_announce(contact_id=contact.pk)
    action_record(
        category=Category.DATA_HYGIENE,
        verb="contact.erased",
        contact_id=contact.pk,
        obj=contact,
        details={"reason": _scrub(reason[:200], needles=needles, all_personal=False)[0], **counts}
        if reason
        else counts,
    )
    return counts
