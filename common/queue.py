"""Queuing a Celery task by its name.

Services queue work for the workers, and the workers' tasks call the services: if the
module that queues imported the tasks module, the two would import each other. Each app
queues from one module (its `dispatch.py`) that names the tasks instead. A task that is
registered in this process (every app's tasks module is loaded when Django starts) runs
as its own `apply_async` would, eagerly too; otherwise the message goes to the broker.
"""

from __future__ import annotations

from celery import current_app


def task_queue(name: str, *, countdown: float | None = None, **kwargs) -> None:
    signature = current_app.signature(name, kwargs=kwargs)
    if countdown is None:
        signature.delay()
    else:
        signature.apply_async(countdown=countdown)
