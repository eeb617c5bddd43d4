"""The only module of contacts that queues Celery tasks (see common.queue)."""

from __future__ import annotations

from common.queue import task_queue

CONTACTS_CHANGED_TASK = "contacts.tasks.contacts_changed_task"
TOUCHPOINTS_CAPTURED_TASK = "contacts.tasks.touchpoints_captured_task"
IMPORT_JOB_RUN_TASK = "contacts.tasks.import_job_run_task"
TOUCHPOINTS_IMPORT_ANNOUNCE_TASK = "contacts.tasks.touchpoints_import_announce_task"


def contacts_changed_announce_soon(*, contact_ids: list[int], fields: list[str]) -> None:
    task_queue(CONTACTS_CHANGED_TASK, contact_ids=contact_ids, fields=fields)


def touchpoints_react_soon() -> None:
    """A worker reacts to the touchpoints waiting (intents, segments, campaigns)."""
    task_queue(TOUCHPOINTS_CAPTURED_TASK)


def import_job_run_soon(job_id: int) -> None:
    task_queue(IMPORT_JOB_RUN_TASK, job_id=job_id)


def touchpoints_import_announce_soon(job_id: int) -> None:
    task_queue(TOUCHPOINTS_IMPORT_ANNOUNCE_TASK, job_id=job_id)
