from celery import Task

from ledger.context import Actor, acting_as, current_actor_or_none


class ActorTask(Task):
    """Base class of every Celery task: the work runs as an algorithmic actor.

    A task that runs eagerly inside another actor's context (a campaign step that
    calls a task inline) keeps that actor when it is algorithmic; a person's context
    never leaks into a worker, since software executes the task.
    """

    def __call__(self, *args, **kwargs):
        outer = current_actor_or_none()
        actor = outer if outer is not None and outer.kind == "algorithmic" else Actor.for_task(self.name)
        with acting_as(actor):
            return super().__call__(*args, **kwargs)
