"""Triggers fire: an event (new touchpoints, changed contacts, a lead score that reached the
MQL threshold, detected intents, membership events, the clock) reaches every kind of trigger
that listens to it (campaigns.triggers), with the triggers of that kind of the active,
published campaigns. All enroll many contacts in one statement (`enroll`).

Waits for an event are woken here too: a contact waiting at a step that a new touchpoint
answers goes on at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

from django.db import connection, transaction
from django.db.models import QuerySet

from campaigns.dispatch import enrollments_publish as advance_soon
from campaigns.engine.advance import enrollments_advance
from campaigns.models import Campaign, CampaignVersion, Enrollment, Trigger
from campaigns.steps import step_type
from campaigns.triggers import trigger_kinds


def active_triggers(kind: str) -> QuerySet[Trigger]:
    """The triggers of this kind of the active, published campaigns."""
    return Trigger.objects.filter(
        kind=kind, campaign__status=Campaign.Status.ACTIVE, campaign__version__isnull=False
    ).select_related("campaign", "campaign__version")


def triggers_fire(event: str, *, now: datetime, **payload) -> int:
    """The event, to every kind that listens to it; how many enrollments were made. The
    timed kinds and the membership events lock the triggers they read: inside a transaction."""
    created = 0
    with transaction.atomic():
        for kind in trigger_kinds().values():
            if kind.listens != event:
                continue
            enrolled = kind.fire(active_triggers(kind.kind), now=now, **payload)
            if kind.advance_at_once and enrolled:
                transaction.on_commit(partial(enrollments_advance, enrollment_ids=enrolled))
            created += len(enrolled)
    return created


def timed_triggers_poll(*, now: datetime) -> int:
    """Beat, every minute: dates that came round and schedules that are due."""
    return triggers_fire("timed", now=now)


# --- waits for an event -------------------------------------------------------------------


def events_wake(*, touchpoints: Sequence[dict], now: datetime) -> int:
    """Contacts waiting at a step that one of these touchpoints answers go on at once."""
    by_contact: dict[int, list[dict]] = {}
    for touchpoint in sorted(touchpoints, key=lambda row: row["pk"]):
        by_contact.setdefault(touchpoint["contact_id"], []).append(touchpoint)
    waiting = list(
        Enrollment.objects.filter(
            contact_id__in=list(by_contact), status=Enrollment.Status.WAITING
        ).values_list("pk", "contact_id", "version_id", "step_key", "step_visit")
    )
    if not waiting:
        return 0
    steps = {
        version_id: {step["key"]: step for step in version_steps}
        for version_id, version_steps in CampaignVersion.objects.filter(
            pk__in={row[2] for row in waiting}
        ).values_list("pk", "steps")
    }
    woken: list[tuple[int, str, int, int]] = []
    for enrollment_id, contact_id, version_id, step_key, visit in waiting:
        step = steps[version_id].get(step_key)
        kind = step_type(step["type"]) if step is not None else None
        if kind is None:
            continue
        for touchpoint in by_contact[contact_id]:
            if kind.woken_by(step, kind=touchpoint["kind_id"], properties=touchpoint["properties"]):
                woken.append((enrollment_id, step_key, visit, touchpoint["pk"]))
                break
    if not woken:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE campaigns_enrollment e
               SET next_run_at = %s, lease_until = NULL,
                   context = e.context || jsonb_build_object('event', jsonb_build_object(
                       'step', w.step_key, 'visit', w.visit, 'touchpoint', w.touchpoint))
              FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::bigint[])
                   AS w (id, step_key, visit, touchpoint)
             WHERE e.id = w.id AND e.status = 'waiting'
               AND e.step_key = w.step_key AND e.step_visit = w.visit
            RETURNING e.id
            """,
            [now, *map(list, zip(*woken, strict=True))],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        transaction.on_commit(lambda: advance_soon(ids))
    return len(ids)
