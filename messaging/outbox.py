"""The outbox: the one pipeline every message goes through, whatever its channel.

    queue -> claim -> gate -> send_batch -> mark

- **queue**: a message is written once, before anything leaves the system; its key (the
  step visit that wrote it) makes a second write of the same send nothing.
- **claim**: a worker takes pending messages in one commit: `sending`, one more attempt,
  a claim id shared by the batch and a lease (`OUTBOX_LEASE_SECONDS`) that it renews as it
  goes. Another worker skips what is claimed.
- **gate**: consent and the suppression list, checked at send time (messaging.gates);
  what they hold back is `suppressed`, with the reason.
- **send_batch**: the channel hands the messages to its provider in order, over one
  connection, and gives each back with the provider's answer before it starts the next.
- **mark**: each answer is committed at once, in one statement with its line in the
  delivery log and, when sent, its action in the ledger: sent; pending again with its next
  attempt (backoff from `OUTBOX_RETRY_BASE_SECONDS`, at most `OUTBOX_MAX_ATTEMPTS` tries);
  failed for good; or unknown when the answer never came.

A worker killed while sending leaves its claim's unanswered messages in `sending`. Since
each answer is committed before the next message is handed over, all of them but the
first were never handed over, and the first may have been: once the lease has run out,
the tick (`outbox_tick`) sends the others again and marks the first `unknown`, for a person
to decide (send again, or mark as sent). No message is lost, none is sent twice unseen,
and at most one per killed worker thread waits for a person.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from common.db import database_url
from ledger.context import current_actor_or_none
from ledger.origins import Origin, origins_describe
from ledger.services import ActionEntry, action_insert_sql, action_record_many
from messaging import dispatch, gates
from messaging.channels import CHANNELS
from messaging.channels.base import FAILED, RETRY, SENT, UNKNOWN, Attempt, Channel, OutboxStopped
from messaging.models import DeliveryAttempt, OutboxMessage

Status = OutboxMessage.Status

BATCH_SIZE = 200  # messages a flush sends over one connection
DUE_CLAIM_LIMIT = 5_000  # messages the tick hands out at once
RECOVER_CLAIMS = 200  # lost claims the tick takes up at once
TICK_LOCK = (7_342, 2)
FLUSH_AFTER = timedelta(seconds=20)  # a flush leaves the newest pending ones to their own task
UNKNOWN_ERROR = (
    "its worker stopped while the provider may have been taking it: it may have been sent. "
    "Send it again, or mark it as sent."
)


def lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def backoff(*, attempts: int) -> timedelta:
    """The wait after the given number of failed attempts: base, 2 x base, 4 x base, ... capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


# --- queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A message to write: its key (the same for every try at the same send), its channel,
    its contact, what it carries, and what wrote it (see ledger.origins)."""

    key: str
    channel: str
    contact_id: int
    payload: dict
    origin_type: str = ""
    origin_id: int | None = None


def outbox_queue(*, drafts: Sequence[Draft], now: datetime) -> dict[str, int]:
    """Write each message once, in one INSERT whose unique key makes a second write of the
    same key nothing; {key: message id} of every draft, new or earlier. The new ones are
    handed to the workers after commit."""
    if not drafts:
        return {}
    table = OutboxMessage._meta.db_table
    columns = [
        [draft.key for draft in drafts],
        [draft.channel for draft in drafts],
        [draft.contact_id for draft in drafts],
        [json.dumps(draft.payload) for draft in drafts],
        [draft.origin_type for draft in drafts],
        [draft.origin_id for draft in drafts],
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, channel, contact_id, payload, origin_type, origin_id,
                                 status, attempts, error, created_at)
            SELECT v.key, v.channel, v.contact_id, v.payload, v.origin_type, v.origin_id, %s, 0, '', %s
              FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::jsonb[], %s::varchar[],
                          %s::bigint[]) AS v (key, channel, contact_id, payload, origin_type, origin_id)
            ON CONFLICT (key) DO NOTHING
            RETURNING key, id
            """,  # noqa: S608 - the table name is the model's, every value a parameter
            [Status.PENDING, now, *columns],
        )
        created = dict(cursor.fetchall())
        ids = dict(created)
        earlier = [draft.key for draft in drafts if draft.key not in created]
        if earlier:
            cursor.execute(f"SELECT key, id FROM {table} WHERE key = ANY(%s)", [earlier])  # noqa: S608
            ids.update(cursor.fetchall())
    if created:
        new_ids = sorted(created.values())
        transaction.on_commit(lambda: dispatch.outbox_publish(new_ids))
    return ids


# --- claim and gate ---------------------------------------------------------------------------


@dataclass
class Claim:
    id: uuid.UUID
    by_channel: dict[str, list[OutboxMessage]]
    suppressed: set[int]


def _claim(message_ids: Sequence[int], *, now: datetime) -> Claim:
    """The pending ones among the messages, locked, gated and marked `sending` in one commit."""
    claim = Claim(id=uuid.uuid4(), by_channel=defaultdict(list), suppressed=set())
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(message_ids), status=Status.PENDING, channel__in=list(CHANNELS))
            .order_by("pk")
        )
        refused = gates.refusals(messages)
        for reason in set(refused.values()):
            OutboxMessage.objects.filter(pk__in=[pk for pk, why in refused.items() if why == reason]).update(
                status=Status.SUPPRESSED, error=reason, next_attempt_at=None
            )
        claimed = [message for message in messages if message.pk not in refused]
        OutboxMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(
            status=Status.SENDING,
            attempts=F("attempts") + 1,
            claim=claim.id,
            lease_until=now + lease(),
            next_attempt_at=None,
        )
    claim.suppressed = set(refused)
    for message in claimed:
        message.attempts += 1
        claim.by_channel[message.channel].append(message)
    return claim


# --- deliver: send and mark -------------------------------------------------------------------


def outbox_deliver(*, message_id: int, now: datetime) -> str:
    """One message; what became of it ("skipped" when another worker has it or it is done)."""
    return outbox_deliver_batch(message_ids=[message_id], now=now).get(message_id, "skipped")


def outbox_deliver_batch(*, message_ids: Sequence[int], now: datetime) -> dict[int, str]:
    """Deliver the pending ones among the messages; each one's new status. A message another
    worker holds, or that is not pending, is left alone (and absent from the answer)."""
    claim = _claim(message_ids, now=now)
    statuses = dict.fromkeys(claim.suppressed, Status.SUPPRESSED)
    for name, batch in claim.by_channel.items():
        statuses.update(_send(CHANNELS[name], batch, claim=claim.id, now=now))
    return statuses


class _Marks:
    """Answers committed in order while the channel goes on with the next message: on a
    connection of its own in a thread of its own, so that the commit's wait for the disk
    overlaps the provider's next round trips. `handover()` returns once all are committed.

    Inside a transaction (a test, a caller's atomic block) the rows the batch claimed are
    visible to that transaction alone, so there each answer is committed in line."""

    def __init__(self) -> None:
        self.inline = connection.in_atomic_block
        self.pool = (
            None if self.inline else ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-marks")
        )
        self.last: Future | None = None
        self.own: psycopg.Connection | None = None

    def add(self, sql: str, params: list) -> None:
        if self.pool is None:
            try:
                _execute(sql, params)
            except ClaimLost as error:
                raise OutboxStopped(str(error)) from error
        else:
            self.last = self.pool.submit(self._execute_own, sql, params)

    def _execute_own(self, sql: str, params: list) -> None:
        """On the thread's own connection: each statement a transaction of its own, prepared
        once on the server and then only bound, which spares the worker formatting its text."""
        if self.own is None:
            self.own = psycopg.connect(database_url(), autocommit=True)
        cursor = self.own.execute(sql, params, prepare=True)
        if cursor.description is not None and not cursor.fetchone()[0]:
            raise ClaimLost("the message was taken up by the outbox tick: its worker's lease had run out")

    def handover(self) -> None:
        if self.last is not None:
            try:
                self.last.result()
            except Exception as error:
                raise OutboxStopped(
                    f"an answer could not be committed: {type(error).__name__}: {error}"
                ) from error

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()
        if self.own is not None:
            self.own.close()


class ClaimLost(Exception):
    pass


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.description is not None and not cursor.fetchone()[0]:
            raise ClaimLost("the message was taken up by the outbox tick: its worker's lease had run out")


def _send(channel: Channel, batch: list[OutboxMessage], *, claim: uuid.UUID, now: datetime) -> dict[int, str]:
    origins = origins_describe((m.origin_type, m.origin_id) for m in batch)
    statuses: dict[int, str] = {}
    marks = _Marks()
    renewed = time.monotonic()
    try:
        for message, attempt in channel.send_batch(batch, now=now, handover=marks.handover):
            origin = origins.get((message.origin_type, message.origin_id))
            status, sql, params = _mark(
                message, attempt, channel=channel, claim=claim, origin=origin, now=now
            )
            marks.add(sql, params)
            statuses[message.pk] = status
            if time.monotonic() - renewed > lease().total_seconds() / 3:
                marks.add(*_renewal(claim, now=now))
                renewed = time.monotonic()
        marks.handover()
    except OutboxStopped:
        raise  # what was not committed stays claimed: the tick takes it up when the lease ends
    except Exception as error:
        marks.handover()
        # Our own code failed between two answers: what was not answered was not handed over.
        unanswered = [message for message in batch if message.pk not in statuses]
        statuses.update(_put_back(unanswered, claim=claim, error=f"{type(error).__name__}: {error}", now=now))
        raise
    finally:
        marks.close()
    return statuses


# The delivery log's values, typed: the statement is prepared once on the server.
LOG_VALUES = ", ".join(
    f"%s::{DeliveryAttempt._meta.get_field(name).db_type(connection)}"
    for name in ("number", "attempted_at", "status_code", "duration_ms", "ok", "error", "provider_id")
)


def _mark(
    message: OutboxMessage,
    attempt: Attempt,
    *,
    channel: Channel,
    claim: uuid.UUID,
    origin: Origin | None,
    now: datetime,
) -> tuple[str, str, list]:
    """The provider's answer for one message as one statement, committed on its own: the
    message, its line in the delivery log and, sent or given up, its action in the ledger.
    The new status, and the statement."""
    status = {SENT: Status.SENT, UNKNOWN: Status.UNKNOWN, FAILED: Status.FAILED}.get(attempt.status)
    next_attempt_at = None
    if attempt.status == RETRY:
        if message.attempts < settings.OUTBOX_MAX_ATTEMPTS:
            status, next_attempt_at = Status.PENDING, now + backoff(attempts=message.attempts)
        else:
            status = Status.FAILED
    error = UNKNOWN_ERROR if status == Status.UNKNOWN else attempt.error
    outbox, log = OutboxMessage._meta.db_table, DeliveryAttempt._meta.db_table
    # The claim stays on the row (its status says it is over): `ours` tells the worker whether
    # the message was still its own. If the tick took its claim up (the lease ran out while
    # the worker was slow), it must stop handing more over. Sent, a message the tick had
    # called unknown is marked sent all the same.
    sql = f"""
        WITH marked AS (
            UPDATE {outbox}
               SET status = %s, sent_at = %s, error = %s, next_attempt_at = %s, lease_until = NULL
             WHERE id = %s AND (claim = %s OR (status = 'unknown' AND %s::boolean))
            RETURNING id, claim = %s AS ours
        ), logged AS (
            INSERT INTO {log} (message_id, number, attempted_at, status_code, duration_ms, ok, error,
                               provider_id)
            SELECT id, {LOG_VALUES} FROM marked
            ON CONFLICT (message_id, number) DO NOTHING
        )
    """  # noqa: S608 - table names from the models, every value a parameter
    params = [
        status, now if status == Status.SENT else None, error[:5000], next_attempt_at,
        message.pk, claim, attempt.ok, claim,
        message.attempts, now, attempt.status_code, attempt.duration_ms, attempt.ok,
        attempt.error[:5000], attempt.provider_id[:100],
    ]  # fmt: skip
    action = _action(message, attempt, status=status, channel=channel, origin=origin, now=now)
    if action is not None:
        insert, values = action
        sql += f", acted AS ({insert})"
        params += values
    sql += " SELECT COALESCE(bool_and(ours), false) FROM marked"
    return status, sql, params


def _action(message, attempt: Attempt, *, status: str, channel: Channel, origin: Origin | None, now):
    """The ledger's line for a message sent or given up, credited to what wrote it (a
    campaign), else to whoever delivers it; none for a message still on its way."""
    if status not in (Status.SENT, Status.FAILED):
        return None
    actor = origin.actor if origin is not None else current_actor_or_none()
    if actor is None:
        return None  # no one to credit: a message written outside any campaign, sent outside a task
    details = {"message": message.pk, "attempts": message.attempts}
    if attempt.summary:
        details["subject"] = attempt.summary
    if attempt.status_code:
        details["status_code"] = attempt.status_code
    entry = ActionEntry(
        category=channel.category,
        verb=f"{channel.name}.{'sent' if status == Status.SENT else 'failed'}",
        contact_id=message.contact_id,
        origin=origin,
        channel=message.channel,
        details=details,
        occurred_at=now,
    )
    return action_insert_sql(entry=entry, actor=actor, source="marked")


def _renewal(claim: uuid.UUID, *, now: datetime) -> tuple[str, list]:
    """The worker is still at it: its claim holds for another lease."""
    table = OutboxMessage._meta.db_table
    until = max(now, timezone.now()) + lease()
    return f"UPDATE {table} SET lease_until = %s WHERE claim = %s AND status = 'sending'", [until, claim]  # noqa: S608


def _put_back(
    messages: Sequence[OutboxMessage], *, claim: uuid.UUID, error: str, now: datetime
) -> dict[int, str]:
    """Messages claimed but never handed over: pending again with their next attempt, or
    failed after the last one."""
    attempt = Attempt(ok=False, error=error, retryable=True)
    statuses = {}
    for message in messages:
        status, sql, params = _mark(
            message, attempt, channel=CHANNELS[message.channel], claim=claim, origin=None, now=now
        )
        with contextlib.suppress(ClaimLost):  # the tick has it already
            _execute(sql, params)
            statuses[message.pk] = status
    return statuses


# --- the tick: claims lost with their worker, messages due --------------------------------------


@dataclass(frozen=True)
class Tick:
    unknown: int = 0
    sent_again: int = 0
    handed_out: int = 0


def outbox_tick(*, now: datetime) -> Tick:
    """Beat, every few seconds: take up the claims of lost workers, and hand the messages due
    (retries whose time came, first attempts whose task was lost) to the workers."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(TICK_LOCK))
            if not cursor.fetchone()[0]:
                return Tick()
        unknown, again = outbox_recover(now=now)
        due = outbox_due_claim(now=now)
        if due:
            transaction.on_commit(lambda: dispatch.outbox_publish(due))
    return Tick(unknown=unknown, sent_again=again, handed_out=len(due))


def outbox_recover(*, now: datetime) -> tuple[int, int]:
    """Claims whose lease ran out: their worker is gone. Of each, the first message still
    `sending` may have been with the provider (unknown); the others never were, and are due
    again at once. How many of each."""
    claims = list(
        OutboxMessage.objects.filter(status=Status.SENDING, lease_until__lt=now)
        .order_by()
        .values_list("claim", flat=True)
        .distinct()[:RECOVER_CLAIMS]
    )
    if not claims:
        return 0, 0
    rows = list(
        OutboxMessage.objects.select_for_update()
        .filter(status=Status.SENDING, claim__in=claims, lease_until__lt=now)
        .order_by("claim", "pk")
        .values_list("pk", "claim")
    )
    first: dict[uuid.UUID, int] = {}
    for message_id, claim in rows:
        first.setdefault(claim, message_id)
    unknown = list(first.values())
    again = [message_id for message_id, _ in rows if message_id not in set(unknown)]
    OutboxMessage.objects.filter(pk__in=unknown).update(
        status=Status.UNKNOWN, error=UNKNOWN_ERROR, claim=None, lease_until=None
    )
    OutboxMessage.objects.filter(pk__in=again).update(
        status=Status.PENDING, attempts=F("attempts") - 1, next_attempt_at=now, claim=None, lease_until=None
    )
    return len(unknown), len(again)


def outbox_due_claim(*, now: datetime, limit: int = DUE_CLAIM_LIMIT) -> list[int]:
    """The messages due for an attempt: retries whose time has come, and first attempts whose
    task was lost (pending for `OUTBOX_REDELIVER_SECONDS`). Each gets a short hold (its next
    attempt moved a lease ahead), so the next tick does not hand it out twice while a worker
    is about to take it."""
    table = OutboxMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET next_attempt_at = %(hold)s
            WHERE id IN (
                SELECT id FROM {table}
                WHERE status = 'pending'
                  AND (next_attempt_at <= %(now)s OR (next_attempt_at IS NULL AND created_at <= %(lost)s))
                ORDER BY COALESCE(next_attempt_at, created_at)
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            )
            RETURNING id
            """,  # noqa: S608 - table names from the models, values bound
            {
                "hold": now + lease(),
                "now": now,
                "lost": now - timedelta(seconds=settings.OUTBOX_REDELIVER_SECONDS),
                "limit": limit,
            },
        )
        return sorted(row[0] for row in cursor.fetchall())


def outbox_flush(*, now: datetime, older_than: timedelta = FLUSH_AFTER, limit: int = 5_000) -> int:
    """Deliver in this process, in batches, every pending message due by now (first attempts
    written before `now - older_than`); how many went out."""
    ids = list(
        OutboxMessage.objects.filter(status=Status.PENDING, created_at__lte=now - older_than)
        .exclude(next_attempt_at__gt=now)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for start in range(0, len(ids), BATCH_SIZE):
        statuses = outbox_deliver_batch(message_ids=ids[start : start + BATCH_SIZE], now=now)
        sent += sum(1 for status in statuses.values() if status == Status.SENT)
    return sent


# --- what people decide about messages whose fate is unknown --------------------------------


@transaction.atomic
def outbox_unknown_send_again(*, message_ids: Sequence[int], now: datetime) -> int:
    """A person decided that these unknown messages did not go out: they are sent again,
    handed to a worker after commit. Each decision is the person's action in the ledger."""
    messages = list(
        OutboxMessage.objects.select_for_update().filter(pk__in=list(message_ids), status=Status.UNKNOWN)
    )
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
        status=Status.PENDING, error="", next_attempt_at=now
    )
    _decisions_record(messages, verb="message.sent_again", now=now)
    ids = sorted(m.pk for m in messages)
    if ids:
        transaction.on_commit(lambda: dispatch.outbox_publish(ids))
    return len(ids)


@transaction.atomic
def outbox_unknown_mark_sent(*, message_ids: Sequence[int], now: datetime) -> int:
    """A person found that these unknown messages did go out (the provider's log, the
    recipient): they are sent. Each decision is the person's action in the ledger."""
    messages = list(
        OutboxMessage.objects.select_for_update().filter(pk__in=list(message_ids), status=Status.UNKNOWN)
    )
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
        status=Status.SENT, sent_at=now, error=""
    )
    _decisions_record(messages, verb="message.marked_sent", now=now)
    return len(messages)


def _decisions_record(messages: Sequence[OutboxMessage], *, verb: str, now: datetime) -> None:
    origins = origins_describe((m.origin_type, m.origin_id) for m in messages)
    action_record_many(
        entries=[
            ActionEntry(
                category=CHANNELS[m.channel].category,
                verb=verb,
                contact_id=m.contact_id,
                origin=origins.get((m.origin_type, m.origin_id)),
                channel=m.channel,
                details={"message": m.pk},
                occurred_at=now,
            )
            for m in messages
        ]
    )
