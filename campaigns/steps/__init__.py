"""The step types of journeys: one module each in this package, each registering its type
with `step_type_register`. Adding a step type is adding its module (and its tests)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from campaigns.steps.base import StepType

_TYPES: dict[str, StepType] = {}
_SUPPORT = {
    "base",
    "sending",
    "personalise",
    "tags",
    "lists",
}  # modules of this package that are not step types


def step_type_register(cls: type[StepType]) -> type[StepType]:
    """A class decorator: the type joins the registry under its `type`."""
    _TYPES[cls.type] = cls()
    return cls


def step_type_unregister(type_: str) -> None:
    _TYPES.pop(type_, None)


@cache
def _load() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SUPPORT:
            importlib.import_module(f"{__name__}.{module.name}")


def step_types() -> dict[str, StepType]:
    """Every registered type, in the order people meet them in the editor (`position`)."""
    _load()
    return dict(sorted(_TYPES.items(), key=lambda item: (item[1].position, item[0])))


def step_type(type_: str) -> StepType | None:
    _load()
    return _TYPES.get(type_)
