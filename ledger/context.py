"""Who is acting right now: carried in a context variable from the entry point
(web request, API key, Celery task, management command) down to the ledger.

The actor is never guessed. Code that records an action with no actor set fails
loudly, because a silent default would make the automation ratio a fiction.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

ALGORITHMIC = "algorithmic"
MANUAL = "manual"


class ActorMissingError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # ALGORITHMIC or MANUAL
    type: str  # user, integration, campaign, rule, task, command, system
    name: str
    id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in (ALGORITHMIC, MANUAL):
            raise ValueError(f"actor kind must be {ALGORITHMIC!r} or {MANUAL!r}, not {self.kind!r}")

    @property
    def user_id(self) -> int | None:
        return self.id if self.type == "user" else None

    @classmethod
    def for_user(cls, user) -> Actor:
        """A person in the browser or the API through their session: manual."""
        return cls(kind=MANUAL, type="user", name=user.get_username(), id=user.pk)

    @classmethod
    def for_integration(cls, *, integration_id: int, name: str) -> Actor:
        """A system calling the API with its key: algorithmic."""
        return cls(kind=ALGORITHMIC, type="integration", name=name, id=integration_id)

    @classmethod
    def for_task(cls, task_name: str) -> Actor:
        """Software working on its own in a worker: algorithmic."""
        return cls(kind=ALGORITHMIC, type="task", name=task_name)

    @classmethod
    def for_campaign(cls, *, campaign_id: int, name: str) -> Actor:
        return cls(kind=ALGORITHMIC, type="campaign", name=name, id=campaign_id)

    @classmethod
    def for_rule(cls, *, rule_id: int | None, name: str) -> Actor:
        return cls(kind=ALGORITHMIC, type="rule", name=name, id=rule_id)

    @classmethod
    def for_command(cls, command_name: str, *, user=None) -> Actor:
        """A person at a terminal: manual. Named by the Django user when given, else by
        the operating-system login."""
        if user is not None:
            return cls(kind=MANUAL, type="user", name=user.get_username(), id=user.pk)
        try:
            login = getpass.getuser()
        except (KeyError, OSError):
            login = "unknown"
        return cls(kind=MANUAL, type="command", name=f"{login} ({command_name})")


_current: ContextVar[Actor | None] = ContextVar("mops_actor", default=None)


def current_actor() -> Actor:
    actor = _current.get()
    if actor is None:
        raise ActorMissingError(
            "no actor is set: wrap this code in ledger.context.acting_as(...) "
            "(web requests, API keys, Celery tasks and management commands set one themselves)"
        )
    return actor


def current_actor_or_none() -> Actor | None:
    return _current.get()


def set_actor(actor: Actor) -> None:
    """Set the actor for the rest of the current context, without a scope to end it.

    Only for code that runs inside a context which is discarded afterwards: a web request
    (ActorMiddleware runs each one in a copy of the context), where API authentication
    learns the actor only once the view has started.
    """
    _current.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
