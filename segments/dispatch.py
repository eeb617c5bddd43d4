"""The only module of segments that queues Celery tasks (see common.queue)."""

from __future__ import annotations

from common.queue import task_queue

REBUILD_TASK = "segments.tasks.segment_rebuild_task"


def segment_rebuild_soon(segment_id: int) -> None:
    task_queue(REBUILD_TASK, segment_id=segment_id)
