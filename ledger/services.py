"""Writing to the ledger. Call these inside the same transaction as the effect."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.utils import timezone

from ledger.context import Actor, current_actor
from ledger.models import Action

BULK_BATCH_SIZE = 5000


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


def _action_row(entry: ActionEntry, actor: Actor, now: datetime) -> Action:
    obj = entry.obj
    return Action(
        occurred_at=entry.occurred_at or now,
        actor_kind=actor.kind,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name[:200],
        category=entry.category,
        verb=entry.verb,
        contact_id=entry.contact_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        channel=entry.channel,
        details=entry.details,
    )


def action_record(
    *,
    category: str,
    verb: str,
    contact_id: int | None = None,
    obj: models.Model | None = None,
    channel: str = "",
    details: dict | None = None,
    occurred_at: datetime | None = None,
) -> Action:
    entry = ActionEntry(
        category=category,
        verb=verb,
        contact_id=contact_id,
        obj=obj,
        channel=channel,
        details=details or {},
        occurred_at=occurred_at,
    )
    action = _action_row(entry, current_actor(), timezone.now())
    action.save(force_insert=True)
    return action


def action_record_many(*, entries: Iterable[ActionEntry]) -> int:
    """Record many actions of the current actor with one INSERT per batch of rows."""
    actor = current_actor()
    now = timezone.now()
    rows = [_action_row(entry, actor, now) for entry in entries]
    Action.objects.bulk_create(rows, batch_size=BULK_BATCH_SIZE)
    return len(rows)
