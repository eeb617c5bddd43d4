"""The only module of messaging that queues Celery tasks (see common.queue)."""

from __future__ import annotations

from collections.abc import Sequence

from common.queue import task_queue

DELIVER_TASK = "messaging.tasks.outbox_deliver_task"
DELIVER_MANY_TASK = "messaging.tasks.outbox_deliver_many_task"
AUDIENCE_SYNC_TASK = "messaging.tasks.audience_sync_task"

DELIVERY_BATCH = 50  # messages handed to one task: e-mails of a batch share one connection


def outbox_deliver_soon(message_id: int, *, countdown: float | None = None) -> None:
    task_queue(DELIVER_TASK, countdown=countdown, message_id=message_id)


def outbox_publish(message_ids: Sequence[int]) -> None:
    """Hand new messages to the workers, a few per task."""
    ids = list(message_ids)
    for start in range(0, len(ids), DELIVERY_BATCH):
        task_queue(DELIVER_MANY_TASK, message_ids=ids[start : start + DELIVERY_BATCH])


def audience_sync_soon(audience_id: int) -> None:
    task_queue(AUDIENCE_SYNC_TASK, audience_id=audience_id)
