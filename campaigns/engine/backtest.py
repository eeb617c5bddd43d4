"""How many contacts a campaign's triggers would have enrolled over the last N days, had it
been live: read from what the database already keeps (touchpoints, segment membership
events, intent detections, the ledger's field changes and MQL moments, contacts' dates),
one query per trigger, nothing written.

The entry filter is applied to the contacts as they are now, not as they were then; the
re-entry policy decides whether a contact counts once (once, again after N days) or once
per occurrence (every time).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.db import connection

from campaigns.models import Campaign
from campaigns.triggers import trigger_describe, trigger_kind
from segments.evaluation import matching_ids_sql, parsed


def backtest(*, campaign: Campaign, days: int, now: datetime) -> dict:
    since = now - timedelta(days=days)
    rows, total = [], Counter()
    for trigger in campaign.triggers.select_related("segment").order_by("id"):
        kind = trigger_kind(trigger.kind)
        query = kind.backtest(trigger, since, now) if kind is not None else None
        note = ""
        if query is None:
            note = kind.not_from_history if kind is not None else "a kind of trigger this installation lacks"
        found = Counter() if query is None else _occurrences(query)
        total.update(found)
        rows.append(
            {
                "trigger": trigger.pk,
                "kind": trigger.kind,
                "description": trigger_describe(trigger),
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


def _occurrences(query: tuple[str, list]) -> Counter:
    """{contact id: how many times the trigger fired for it} in the window."""
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return Counter(dict(cursor.fetchall()))
