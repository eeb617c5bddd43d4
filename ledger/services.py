"""Writing to the ledger. Call these inside the same transaction as the effect."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.db import connection, models
from django.utils import timezone

from common.copy import copy_rows
from ledger.context import Actor, current_actor
from ledger.counting import verb_check
from ledger.models import Action
from ledger.origins import Origin


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """What a bulk caller knows about one action; the actor comes from the context."""

    category: str
    verb: str
    contact_id: int | None = None
    obj: models.Model | None = None
    channel: str = ""
    details: dict = field(default_factory=dict)
    occurred_at: datetime | None = None
    origin: Origin | None = None  # the object, when the caller knows it only as an origin


ACTION_COLUMNS = [
    "occurred_at", "actor_kind", "actor_type", "actor_id", "actor_name", "category", "verb",
    "contact_id", "object_type", "object_id", "channel", "details",
]  # fmt: skip
# The head of a set-based INSERT of actions inside another app's statement (an import, a
# segment's rebuild): `f"{ACTIONS_INSERT} SELECT ..."`, the SELECT giving ACTION_COLUMNS in order.
ACTIONS_INSERT = f"INSERT INTO {Action._meta.db_table} ({', '.join(ACTION_COLUMNS)})"


def _action_values(entry: ActionEntry, actor: Actor, now: datetime) -> dict:
    """One action's columns; the single place that turns an entry and its actor into a row."""
    verb_check(entry.verb, channel=entry.channel)  # nothing reaches the ledger uncounted by mistake
    obj = entry.obj
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, str(obj.pk)
    elif entry.origin is not None:
        object_type, object_id = entry.origin.object_type, str(entry.origin.id)
    else:
        object_type, object_id = "", ""
    return {
        "occurred_at": entry.occurred_at or now,
        "actor_kind": actor.kind,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_name": actor.name[:200],
        "category": entry.category,
        "verb": entry.verb,
        "contact_id": entry.contact_id,
        "object_type": object_type,
        "object_id": object_id,
        "channel": entry.channel,
        "details": entry.details,
    }


def action_record(
    *,
    category: str,
    verb: str,
    contact_id: int | None = None,
    obj: models.Model | None = None,
    channel: str = "",
    details: dict | None = None,
    occurred_at: datetime | None = None,
    origin: Origin | None = None,
) -> Action:
    entry = ActionEntry(
        category=category,
        verb=verb,
        contact_id=contact_id,
        obj=obj,
        channel=channel,
        details=details or {},
        occurred_at=occurred_at,
        origin=origin,
    )
    action = Action(**_action_values(entry, current_actor(), timezone.now()))
    action.save(force_insert=True)
    return action


def action_record_many(*, entries: Iterable[ActionEntry]) -> int:
    """Record many actions of the current actor at once, with COPY: batches of thousands of
    actions (imports, API batches) cost about as much as their data, not per row."""
    actor = current_actor()
    # Materialised first: nothing may query the connection while COPY streams the rows.
    entries = list(entries)
    if not entries:
        return 0
    now = timezone.now()

    def rows():
        for entry in entries:
            values = _action_values(entry, actor, now)
            values["details"] = json.dumps(values["details"])
            yield [values[column] for column in ACTION_COLUMNS]

    return copy_rows(table=Action._meta.db_table, columns=ACTION_COLUMNS, rows=rows())


def action_insert_sql(*, entry: ActionEntry, actor: Actor, source: str) -> tuple[str, list]:
    """The INSERT of one action as part of the caller's own statement: one row for each row
    of `source` (the name of a CTE in that statement), none when it has none. For a write
    whose action must commit with it in a single round trip (a message marked sent)."""
    values = _action_values(entry, actor, timezone.now())
    values["details"] = json.dumps(values["details"])
    sql = f"{ACTIONS_INSERT} SELECT {_typed_placeholders()} FROM {source}"  # noqa: S608 - names from the model, values parameters
    return sql, [values[column] for column in ACTION_COLUMNS]


@cache
def _typed_placeholders() -> str:
    """Typed: a statement the caller prepares once on the server must say what each value is."""
    return ", ".join(f"%s::{Action._meta.get_field(column).db_type(connection)}" for column in ACTION_COLUMNS)
