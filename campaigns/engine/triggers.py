"""Triggers beyond touchpoints and segments: a field changed (to a value), the lead score
reached the MQL threshold, an intent was detected, a date came round (N days before or
after a contact's or a touchpoint's date, at a time of day in the contact's time zone),
and a schedule over a segment (every Monday at 9:00, its members).

The first three react to the signals the apps below send after commit; dates and
schedules are read by beat, each trigger locked while it is read and checked up to the
moment it was last read, so every occurrence enrolls once. All enroll many contacts in
one statement (`enroll`). Waits for an event are woken here too.
"""

# ruff: noqa: S608 - the SQL is this module's, every value a parameter

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from campaigns.engine.enroll import enroll
from campaigns.engine.enroll import enrollments_publish as advance_soon
from campaigns.models import Campaign, CampaignVersion, Enrollment, Trigger
from campaigns.steps import step_type
from common import clock
from segments.evaluation import matching_ids_sql, parsed
from segments.models import Membership


def active_triggers(kind: str) -> QuerySet[Trigger]:
    """The triggers of this kind of the active, published campaigns."""
    return Trigger.objects.filter(
        kind=kind, campaign__status=Campaign.Status.ACTIVE, campaign__version__isnull=False
    ).select_related("campaign", "campaign__version")


def _changed(trigger: Trigger, fields: Iterable[str]) -> bool:
    """`attributes.plan` changed when the announcement names it, all `attributes`, or a new
    contact (`*`)."""
    return trigger.field in fields or trigger.field.split(".", 1)[0] in fields or "*" in fields


def field_triggers_fire(*, contact_ids: Sequence[int], fields: Sequence[str], now: datetime) -> int:
    """Contacts whose field changed enter; with a value, only those for whom it now holds
    (compared as the condition language's `eq` does)."""
    created = 0
    ids = sorted(set(contact_ids))
    for trigger in active_triggers(Trigger.Kind.FIELD_CHANGED):
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
            created += len(enroll(campaign=trigger.campaign, contact_ids=wanted, now=now, context=context))
    return created


def score_triggers_fire(*, contact_ids: Sequence[int], now: datetime) -> int:
    created = 0
    for trigger in active_triggers(Trigger.Kind.SCORE_CROSSED):
        context = {"trigger": trigger.pk, "event": "mql"}
        created += len(enroll(campaign=trigger.campaign, contact_ids=contact_ids, now=now, context=context))
    return created


def intent_triggers_fire(*, detections: Sequence[dict], now: datetime) -> int:
    """Each contact enters with the touchpoint that showed the intent (its first one)."""
    created = 0
    for trigger in active_triggers(Trigger.Kind.INTENT_DETECTED):
        contexts: dict[int, dict] = {}
        for found in sorted(detections, key=lambda row: row.get("touchpoint_id") or 0):
            if found["intent"] != trigger.intent or found["confidence"] < (trigger.min_confidence or 0):
                continue
            contexts.setdefault(
                found["contact_id"],
                {"trigger": trigger.pk, "intent": found["intent"], "touchpoint": found.get("touchpoint_id")},
            )
        if contexts:
            created += len(
                enroll(campaign=trigger.campaign, contact_ids=list(contexts), now=now, contexts=contexts)
            )
    return created


# --- dates and schedules, read by beat ---------------------------------------------------

# The contact's zone when PostgreSQL knows it (a joined pg_timezone_names), else the site's.
_ZONE = "COALESCE(zone.name, %s)"
_ZONE_JOIN = "LEFT JOIN pg_timezone_names zone ON zone.name = c.timezone"


def date_occurrences_sql(trigger: Trigger) -> tuple[str, list]:
    """The contacts (and the touchpoint, if any) whose occurrence of the trigger's date
    falls in (since, until]: the date, moved by offset_days, at time_of_day in the
    contact's zone. Dates stored as text are read with mops_date(), which is NULL for
    anything that is not a date."""
    at = trigger.time_of_day or clock.time(9)
    params: list = []
    if trigger.touchpoint_kinds:
        source = "t"
        joins = (
            "JOIN contacts_touchpoint t"
            " ON t.contact_id = c.id AND t.kind_id = ANY(%s) AND t.properties @> %s::jsonb"
        )
        params += [list(trigger.touchpoint_kinds), json.dumps(trigger.touchpoint_filter or {})]
        field = trigger.field or "occurred_at"
    else:
        source, joins, field = "c", "", trigger.field
    if field.startswith(("attributes.", "properties.")):
        bag, _, name = field.partition(".")
        day = f"mops_date({source}.{bag} ->> %s)"
        day_params = [name]
    else:
        day = f"({source}.{field} AT TIME ZONE {_ZONE})::date"
        day_params = [settings.TIME_ZONE]
    touchpoint = "MIN(t.id)" if trigger.touchpoint_kinds else "NULL::bigint"
    sql = f"""
        SELECT c.id, {touchpoint}
          FROM contacts_contact c {_ZONE_JOIN} {joins}
         WHERE (({day} + %s) + %s::time) AT TIME ZONE {_ZONE} > %s
           AND (({day} + %s) + %s::time) AT TIME ZONE {_ZONE} <= %s
         GROUP BY c.id
    """
    window = [trigger.offset_days, at, settings.TIME_ZONE]
    return sql, [*params, *day_params, *window, "SINCE", *day_params, *window, "UNTIL"]


def date_triggers_poll(*, now: datetime) -> int:
    created = 0
    with transaction.atomic():
        for trigger in active_triggers(Trigger.Kind.DATE).select_for_update(skip_locked=True, of=("self",)):
            created += _date_trigger_fire(trigger, now=now)
    return created


def _date_trigger_fire(trigger: Trigger, *, now: datetime) -> int:
    since = trigger.last_run_at or now
    sql, params = date_occurrences_sql(trigger)
    params = [since if value == "SINCE" else now if value == "UNTIL" else value for value in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    contexts = {
        contact_id: {"trigger": trigger.pk, "date": trigger.field}
        | ({"touchpoint": touchpoint_id} if touchpoint_id else {})
        for contact_id, touchpoint_id in rows
    }
    created = enroll(campaign=trigger.campaign, contact_ids=list(contexts), now=now, contexts=contexts)
    Trigger.objects.filter(pk=trigger.pk).update(last_run_at=now)
    return len(created)


def schedule_due(trigger: Trigger, *, now: datetime) -> datetime | None:
    """The schedule's latest occurrence since it was last read, if one came."""
    since = trigger.last_run_at or now
    tz = clock.zone(settings.TIME_ZONE)
    occurrence = clock.next_time_of_day(
        since + timedelta(microseconds=1), trigger.time_of_day, tz, trigger.weekdays or None
    )
    return occurrence if occurrence <= now else None


def schedule_triggers_poll(*, now: datetime) -> int:
    """Schedules whose time came: every member of the segment enters (those inside stay,
    the re-entry policy decides about the others). Missed occurrences count once."""
    created = 0
    with transaction.atomic():
        for trigger in active_triggers(Trigger.Kind.SCHEDULE).select_for_update(
            skip_locked=True, of=("self",)
        ):
            occurrence = schedule_due(trigger, now=now)
            if occurrence is not None:
                members = Membership.objects.filter(segment_id=trigger.segment_id)
                context = {"trigger": trigger.pk, "occurrence": occurrence.isoformat()}
                ids = list(members.values_list("contact_id", flat=True))
                created += len(enroll(campaign=trigger.campaign, contact_ids=ids, now=now, context=context))
            Trigger.objects.filter(pk=trigger.pk).update(last_run_at=now)
    return created


def timed_triggers_poll(*, now: datetime) -> int:
    return date_triggers_poll(now=now) + schedule_triggers_poll(now=now)


# --- waits for an event -------------------------------------------------------------------


def events_wake(*, touchpoints: Sequence[dict], now: datetime) -> int:
    """Contacts waiting for a touchpoint like one of these go on at once, by their `yes`."""
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
