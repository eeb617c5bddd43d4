"""The only module of campaigns that queues Celery tasks (see common.queue)."""

from __future__ import annotations

from collections.abc import Sequence

from common.queue import task_queue

ADVANCE_TASK = "campaigns.tasks.enrollments_advance_task"
ADVANCE_BATCH = 500  # enrollments per task: one batch of campaigns.engine.advance


def enrollments_publish(enrollment_ids: Sequence[int]) -> None:
    """Hand due enrollments to the workers, a batch per task."""
    ids = list(enrollment_ids)
    for start in range(0, len(ids), ADVANCE_BATCH):
        task_queue(ADVANCE_TASK, enrollment_ids=ids[start : start + ADVANCE_BATCH])
