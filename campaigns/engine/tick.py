"""The beat's tick: claim due enrollments and hand them to workers in batches.

One tick at a time (an advisory lock): overlapping ticks would only publish the same work
twice. A claimed row gets a short lease so the next tick leaves it alone while a worker
has it; a lease that expires (a lost message, a killed worker) makes the row due again.
Workers still re-check each row under its lock, so a duplicate batch does nothing.

The lease (`CAMPAIGNS_LEASE_SECONDS`) must outlast a batch's work with a margin. Messages
have a tick of their own (messaging.outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from campaigns.dispatch import enrollments_publish
from campaigns.engine.triggers import triggers_fire

TICK_LOCK = (7_342, 1)
CLAIM_LIMIT = 20_000  # per tick: 100,000 contacts whose wait ends together go in seconds


def lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "CAMPAIGNS_LEASE_SECONDS", 300))


@dataclass(frozen=True)
class Tick:
    claimed: int = 0
    enrolled: int = 0


def tick(*, now: datetime) -> Tick:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(TICK_LOCK))
            if not cursor.fetchone()[0]:
                return Tick()
        enrolled = segment_triggers_poll(now=now)
        claimed = _claim(now)
        if claimed:
            transaction.on_commit(lambda: enrollments_publish(claimed))
    return Tick(claimed=len(claimed), enrolled=enrolled)


def _claim(now: datetime) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE campaigns_enrollment SET lease_until = %s
             WHERE id IN (
                   SELECT id FROM campaigns_enrollment
                    WHERE status IN ('active', 'waiting') AND next_run_at <= %s
                      AND (lease_until IS NULL OR lease_until < %s)
                    ORDER BY next_run_at
                    LIMIT %s
                      FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            [now + lease(), now, now, CLAIM_LIMIT],
        )
        return sorted(row[0] for row in cursor.fetchall())


def segment_triggers_poll(*, now: datetime) -> int:
    """Membership events since each segment trigger last looked, read in id order."""
    return triggers_fire("segment_events", now=now)
