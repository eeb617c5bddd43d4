"""How many contacts a campaign's triggers would have enrolled over the last N days, had it
been live: read from what the database already keeps (touchpoints, segment membership
events, intent detections, the ledger's field changes and MQL moments, contacts' dates),
one query per trigger, nothing written.

The entry filter is applied to the contacts as they are now, not as they were then; the
re-entry policy decides whether a contact counts once (once, again after N days) or once
per occurrence (every time).
"""

# ruff: noqa: S608 - the SQL is this module's; every value is a parameter

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from campaigns.engine.triggers import date_occurrences_sql
from campaigns.models import Campaign, Trigger
from common import clock
from segments.evaluation import matching_ids_sql, parsed

NOT_FROM_HISTORY = {
    Trigger.Kind.MANUAL: "people and integrations enroll by hand: history cannot say who they would have",
}


def backtest(*, campaign: Campaign, days: int, now: datetime) -> dict:
    since = now - timedelta(days=days)
    rows, total = [], Counter()
    for trigger in campaign.triggers.select_related("segment").order_by("id"):
        note = NOT_FROM_HISTORY.get(trigger.kind, "")
        found = Counter() if note else _occurrences(trigger, since=since, until=now)
        total.update(found)
        rows.append(
            {
                "trigger": trigger.pk,
                "kind": trigger.kind,
                "description": str(trigger),
                "contacts": len(found),
                "occurrences": sum(found.values()),
                "note": note,
            }
        )
    admitted = _admitted(campaign, sorted(total), now=now)
    if campaign.reentry == Campaign.Reentry.ALWAYS:
        would_enroll = sum(count for contact_id, count in total.items() if contact_id in admitted)
    else:
        would_enroll = len(admitted)
    return {
        "days": days,
        "since": since.isoformat(),
        "until": now.isoformat(),
        "triggers": rows,
        "contacts": len(total),
        "entry_filter_keeps": len(admitted),
        "would_enroll": would_enroll,
        "reentry": campaign.reentry,
    }


def _admitted(campaign: Campaign, contact_ids: list[int], *, now: datetime) -> set[int]:
    entry_filter = campaign.version.entry_filter if campaign.version_id else campaign.entry_filter
    if not entry_filter or not contact_ids:
        return set(contact_ids)
    sql, params = matching_ids_sql(parsed(entry_filter), now=now, contact_ids=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, contact_ids])
        return {row[0] for row in cursor.fetchall()}


def _occurrences(trigger: Trigger, *, since: datetime, until: datetime) -> Counter:
    """{contact id: how many times the trigger fired for it} in (since, until]."""
    sql, params = _QUERIES[trigger.kind](trigger, since, until)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return Counter(dict(cursor.fetchall()))


def _touchpoints(trigger, since, until):
    return (
        """SELECT contact_id, count(*) FROM contacts_touchpoint
            WHERE kind_id = ANY(%s) AND properties @> %s::jsonb AND occurred_at > %s AND occurred_at <= %s
            GROUP BY contact_id""",
        [list(trigger.touchpoint_kinds), json.dumps(trigger.touchpoint_filter or {}), since, until],
    )


def _segment_events(kind):
    def query(trigger, since, until):
        return (
            """SELECT contact_id, count(*) FROM segments_membershipevent
                WHERE segment_id = %s AND kind = %s AND occurred_at > %s AND occurred_at <= %s
                GROUP BY contact_id""",
            [trigger.segment_id, kind, since, until],
        )

    return query


def _ledger(verb: str, condition=None):
    def query(trigger, since, until):
        extra, extra_params = condition(trigger) if condition else ("TRUE", [])
        return (
            f"""SELECT contact_id, count(*) FROM ledger_action
                 WHERE verb = %s AND occurred_at > %s AND occurred_at <= %s AND contact_id IS NOT NULL
                   AND {extra}
                 GROUP BY contact_id""",
            [verb, since, until, *extra_params],
        )

    return query


def _intent(trigger):
    return (
        "details ->> 'intent' = %s AND (details ->> 'confidence')::float >= %s",
        [trigger.intent, trigger.min_confidence or 0],
    )


def _field_change(trigger):
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
    return condition, params


def _dates(trigger, since, until):
    sql, params = date_occurrences_sql(trigger)
    sql = f"SELECT id, count(*) FROM ({sql}) fired (id, touchpoint) GROUP BY id"
    return sql, [since if value == "SINCE" else until if value == "UNTIL" else value for value in params]


def _schedule(trigger, since, until):
    """Each occurrence of the schedule in the window brings the segment's members as they
    are now (who was in then is not kept)."""
    tz = clock.zone(settings.TIME_ZONE)
    occurrences, moment = 0, since
    while trigger.time_of_day is not None:
        moment = clock.next_time_of_day(
            moment + timedelta(microseconds=1), trigger.time_of_day, tz, trigger.weekdays or None
        )
        if moment > until:
            break
        occurrences += 1
    return (
        "SELECT contact_id, %s FROM segments_membership WHERE segment_id = %s AND %s > 0",
        [occurrences, trigger.segment_id, occurrences],
    )


_QUERIES = {
    Trigger.Kind.TOUCHPOINT: _touchpoints,
    Trigger.Kind.SEGMENT_ENTERED: _segment_events("entered"),
    Trigger.Kind.SEGMENT_EXITED: _segment_events("exited"),
    Trigger.Kind.INTENT_DETECTED: _ledger("intent.detected", _intent),
    Trigger.Kind.FIELD_CHANGED: _ledger("contact.updated", _field_change),
    Trigger.Kind.SCORE_CROSSED: _ledger("contact.mql_reached"),
    Trigger.Kind.DATE: _dates,
    Trigger.Kind.SCHEDULE: _schedule,
}
