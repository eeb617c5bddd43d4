"""A journey as data: a list of steps, each with a stable key and a type.

A step goes on to the step named by its `next`, or else to the one listed after it; the
last step of the list ends the journey. Branch and split steps name their exits.

    [{"key": "confirm", "type": "send_email", "subject": "You are in", "body": "..."},
     {"key": "pause", "type": "wait", "days": 1},
     {"key": "attended", "type": "branch", "conditions": {...}, "yes": "thanks", "no": "replay"},
     ...]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from campaigns.steps import step_types
from campaigns.steps.base import WAIT_UNITS
from segments.evaluation import Known

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ALLOWED = {"key", "type", "next", "label", *WAIT_UNITS}


class GraphError(ValueError):
    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


@dataclass(frozen=True)
class Journey:
    steps: tuple[dict, ...]

    @property
    def first(self) -> str:
        return self.steps[0]["key"] if self.steps else ""

    def step(self, key: str) -> dict | None:
        for step in self.steps:
            if step["key"] == key:
                return step
        return None

    def following(self, key: str) -> str:
        """Where a step without exits goes on to: its `next`, or the one listed after it."""
        for index, step in enumerate(self.steps):
            if step["key"] == key:
                if "next" in step:
                    return step["next"] or ""
                return self.steps[index + 1]["key"] if index + 1 < len(self.steps) else ""
        return ""


def validate(steps: Any, *, known: Known | None = None) -> Journey:
    """The steps as a Journey, or GraphError listing every problem with its path."""
    errors: list[tuple[str, str]] = []
    if not isinstance(steps, list):
        raise GraphError([("steps", "expected a list of steps")])
    keys: list[str] = []
    for index, step in enumerate(steps):
        path = f"steps[{index}]"
        if not isinstance(step, dict):
            errors.append((path, "expected an object with a key and a type"))
            continue
        key = step.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            errors.append((f"{path}.key", "expected a short key of lower-case letters, digits, - or _"))
        elif key in keys:
            errors.append((f"{path}.key", f"“{key}” is used by another step"))
        keys.append(key if isinstance(key, str) else "")
    known_keys = {key for key in keys if key}
    known = known or Known.load()
    for index, step in enumerate(steps):
        if isinstance(step, dict):
            errors.extend(_check_step(step, f"steps[{index}]", known_keys, known))
    if errors:
        raise GraphError(errors)
    return Journey(steps=tuple(steps))


def _check_step(step: dict, path: str, keys: set[str], known: Known) -> list[tuple[str, str]]:
    types = step_types()
    kind = types.get(step["type"]) if isinstance(step.get("type"), str) else None
    if kind is None:
        return [
            (f"{path}.type", f"unknown step type {step.get('type')!r}; expected one of {', '.join(types)}")
        ]
    errors = []
    allowed = ALLOWED | kind.field_names() | set(kind.exit_names())
    errors.extend(
        (f"{path}.{name}", "unknown field for this step type") for name in sorted(set(step) - allowed)
    )
    errors.extend((f"{path}.{name}", "required") for name in kind.required_names() if name not in step)
    for name in ("next", *(name for name in kind.exit_names() if name != "paths")):
        target = step.get(name)
        if target not in (None, "") and target not in keys:
            errors.append((f"{path}.{name}", f"no step with the key {target!r}"))
    if errors:
        return errors
    return kind.check(step, path, known)
