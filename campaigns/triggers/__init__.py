"""The kinds of trigger that start journeys: one module each in this package, each
registering its kind with `trigger_kind_register`. Adding a kind is adding its module (and
its tests): the builder, validation, the engine's reactions and backtest read the registry."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaigns.triggers.base import TriggerKind

_KINDS: dict[str, TriggerKind] = {}
_SUPPORT = {"base", "segment_events", "touchpoints"}  # modules of this package that are not kinds


def trigger_kind_register(cls: type[TriggerKind]) -> type[TriggerKind]:
    """A class decorator: the kind joins the registry under its `kind`."""
    _KINDS[cls.kind] = cls()
    return cls


def trigger_kind_unregister(kind: str) -> None:
    _KINDS.pop(kind, None)


@cache
def _load() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SUPPORT:
            importlib.import_module(f"{__name__}.{module.name}")


def trigger_kinds() -> dict[str, TriggerKind]:
    """Every registered kind, in the order the builder offers them (`position`)."""
    _load()
    return dict(sorted(_KINDS.items(), key=lambda item: (item[1].position, item[0])))


def trigger_kind(kind: str) -> TriggerKind | None:
    _load()
    return _KINDS.get(kind)


def trigger_kind_choices() -> list[tuple[str, str]]:
    """(kind, label): the choices of Trigger.kind, read when forms and serializers are made."""
    return [(kind.kind, kind.label) for kind in trigger_kinds().values()]


def trigger_describe(trigger) -> str:
    """The trigger in one sentence, as its kind says it."""
    kind = trigger_kind(trigger.kind)
    return kind.describe(trigger) if kind is not None else f"{trigger.kind} (a kind this installation lacks)"
