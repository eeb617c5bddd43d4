from __future__ import annotations

import json

from django.db import connection

from campaigns.enrollment import enroll
from campaigns.steps.base import Field
from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind
from segments.conditions.schema import ConditionError
from segments.evaluation import matching_ids_sql, parsed


def _changed(trigger, fields) -> bool:
    """`attributes.plan` changed when the announcement names it, all `attributes`, or a new
    contact (`*`)."""
    return trigger.field in fields or trigger.field.split(".", 1)[0] in fields or "*" in fields


@trigger_kind_register
class FieldChanged(TriggerKind):
    """A field of the contact changed, to a value if one is given."""

    kind = "field_changed"
    label = "A field changed"
    position = 50
    listens = "contacts_changed"
    fields = (
        Field("field", "contact_field", label="the field", required=True, choices="contact_fields"),
        Field("value", "text", label="changes to", placeholder="any value"),
    )

    def build(self, trigger, data, path, known):
        field = data.get("field") or ""
        trigger.field, trigger.value = field, data.get("value")
        try:
            parsed({"field": field, "op": "is_set"}, known=known)
        except ConditionError as error:
            return [(f"{path}.field", message) for _, message in error.errors]
        return []

    def describe(self, trigger):
        return f"{trigger.field} changed" + ("" if trigger.value is None else f" to {trigger.value}")

    def fire(self, triggers, *, now, contact_ids, fields, **event):
        """Contacts whose field changed enter; with a value, only those for whom it now holds
        (compared as the condition language's `eq` does)."""
        created: list[int] = []
        ids = sorted(set(contact_ids))
        for trigger in triggers:
            if not _changed(trigger, fields):
                continue
            wanted = ids
            if trigger.value is not None:
                leaf = parsed({"field": trigger.field, "op": "eq", "value": trigger.value})
            elif "*" in fields:  # a new contact: only if it came with the field set
                leaf = parsed({"field": trigger.field, "op": "is_set"})
            else:
                leaf = None
            if leaf is not None:
                sql, params = matching_ids_sql(leaf, now=now, contact_ids=True)
                with connection.cursor() as cursor:
                    cursor.execute(sql, [*params, ids])
                    wanted = [row[0] for row in cursor.fetchall()]
            if wanted:
                context = {"trigger": trigger.pk, "field": trigger.field}
                created += enroll(campaign=trigger.campaign, contact_ids=wanted, now=now, context=context)
        return created

    def backtest(self, trigger, since, until):
        """The ledger keeps {field: [old, new]}; an attribute is a key of the attributes pair."""
        field, _, name = trigger.field.partition(".")
        if name:
            path = [field, name]
            after = "details -> 'changes' -> %s -> 1 -> %s"
            condition = f"(details -> 'changes' -> %s -> 0 -> %s) IS DISTINCT FROM ({after})"
            params = [*path, *path]
        else:
            path = [field]
            after = "details -> 'changes' -> %s -> 1"
            condition, params = "details -> 'changes' ? %s", [field]
        if trigger.value is not None:
            condition += f" AND ({after}) = %s::jsonb"
            params += [*path, json.dumps(trigger.value)]
        return ledger_occurrences("contact.updated", since, until, condition, params)


def ledger_occurrences(verb: str, since, until, condition: str = "TRUE", params=()) -> tuple[str, list]:
    """How often each contact had this action in the ledger in (since, until]."""
    return (
        f"""SELECT contact_id, count(*) FROM ledger_action
             WHERE verb = %s AND occurred_at > %s AND occurred_at <= %s AND contact_id IS NOT NULL
               AND {condition}
             GROUP BY contact_id""",  # noqa: S608 - the condition is the kinds' own, values are parameters
        [verb, since, until, *params],
    )
