"""The only module of intents that queues Celery tasks (see common.queue)."""

from __future__ import annotations

from common.queue import task_queue

MODEL_TRAIN_TASK = "intents.tasks.intent_model_train_task"


def intent_model_train_soon(model_id: int) -> None:
    task_queue(MODEL_TRAIN_TASK, model_id=model_id)
