"""A person's values out of the ledger's details, when the person is erased: the rows keep
who acted, in which category and when (the counts), and lose what says who the person was."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from ledger.models import Action

ERASED = "[erased]"
# Keys whose values in a ledger row of the person are personal whatever they hold.
PERSONAL_KEYS = {
    "email", "first_name", "last_name", "phone", "job_title", "city",
    "to", "subject", "body", "text", "address", "name", "attributes", "external_id",
}  # fmt: skip


def scrubbed(value: Any, *, needles: list[str], all_personal: bool) -> tuple[Any, bool]:
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
            result[key], sub = scrubbed(item, needles=needles, all_personal=all_personal)
            changed = changed or sub
        return result, changed
    if isinstance(value, list):
        pairs = [scrubbed(item, needles=needles, all_personal=all_personal) for item in value]
        return [item for item, _ in pairs], any(sub for _, sub in pairs)
    if isinstance(value, str):
        lowered = value.lower()
        if any(needle in lowered for needle in needles):
            return ERASED, True
    return value, False


def actions_personal_values_scrub(*, contact_id: int, needles: list[str]) -> int:
    """Personal values out of the details: every row of the person, and any other row whose
    details mention one of the values (a deleted duplicate, a labelled text). How many rows
    changed."""
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
        details, dirty = scrubbed(
            action.details, needles=needles, all_personal=action.contact_id == contact_id
        )
        if dirty:
            action.details = details
            changed.append(action)
    Action.objects.bulk_update(changed, ["details"], batch_size=2000)
    return len(changed)
