"""The limits every campaign obeys on a channel (SendingRule): a frequency cap and quiet
hours, both read in the contact's time zone. A send they hold back waits; nothing is dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from common import clock
from contacts.models import Contact
from messaging.models import OutboxMessage, SendingRule


@dataclass(frozen=True)
class Hold:
    until: datetime
    reason: str


def holds_for(
    channel: str, *, contact_ids: Sequence[int], now: datetime, also: Sequence[tuple[int, datetime]] = ()
) -> dict[int, Hold]:
    """The contacts whose send on the channel its limits hold back, and until when: first
    the frequency cap (at most N messages per contact in the last D days, across campaigns),
    then quiet hours in the contact's time zone, at the moment the cap lets it go. `also`:
    sends not in the outbox that count all the same (a simulation's), as (contact, when).
    Two queries for the whole group, whatever its size."""
    rule = SendingRule.objects.filter(channel=channel).first()
    if rule is None or not contact_ids:
        return {}
    until = dict.fromkeys(contact_ids, now)
    reasons: dict[int, list[str]] = {contact_id: [] for contact_id in contact_ids}
    if rule.cap_messages:
        period = timedelta(days=rule.cap_days)
        for contact_id, oldest in _capped(
            channel, rule.cap_messages, contact_ids, since=now - period, also=also
        ):
            until[contact_id] = oldest + period  # free again when the oldest leaves the period
            reasons[contact_id].append(f"frequency cap: {rule.cap_messages} per {rule.cap_days} days")
    if rule.quiet_start is not None:
        zones = dict(Contact.objects.filter(pk__in=contact_ids).values_list("pk", "timezone"))
        window = f"quiet hours {rule.quiet_start:%H:%M} to {rule.quiet_end:%H:%M}"
        for contact_id in contact_ids:
            tz = clock.zone(zones.get(contact_id))
            opening = clock.quiet_until(until[contact_id], rule.quiet_start, rule.quiet_end, tz)
            if opening is not None:
                until[contact_id] = opening
                reasons[contact_id].append(window)
    return {
        contact_id: Hold(until=until[contact_id], reason=", ".join(why))
        for contact_id, why in reasons.items()
        if why
    }


def _capped(
    channel: str,
    cap: int,
    contact_ids: Sequence[int],
    *,
    since: datetime,
    also: Sequence[tuple[int, datetime]],
) -> list[tuple[int, datetime]]:
    """Contacts with `cap` or more messages on the channel since then, each with the time of
    the cap-th most recent one."""
    extra = [(contact_id, at) for contact_id, at in also if contact_id in set(contact_ids) and at > since]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT contact_id, created_at FROM (
                SELECT contact_id, created_at,
                       row_number() OVER (PARTITION BY contact_id ORDER BY created_at DESC) AS nth
                  FROM (SELECT contact_id, created_at FROM {OutboxMessage._meta.db_table}
                         WHERE contact_id = ANY(%s) AND channel = %s AND created_at > %s AND status <> %s
                        UNION ALL
                        SELECT * FROM unnest(%s::bigint[], %s::timestamptz[])
                       ) AS sent (contact_id, created_at)
            ) recent
             WHERE nth = %s
            """,  # noqa: S608 - the table name is the model's, every value a parameter
            [
                list(contact_ids), channel, since, OutboxMessage.Status.SUPPRESSED,
                [row[0] for row in extra], [row[1] for row in extra], cap,
            ],
        )  # fmt: skip
        return cursor.fetchall()
