"""What a step type is: one class that everything knowing a kind of step reads.

A step type says, in one place:
- its `type` (the key steps carry), its `label` (the name people read) and its `category`
  (how the drawing shows it: wait, branch, message, action, exit);
- its `fields`: the schema the step editor renders without knowing the type, and the
  presence check of validation (`required` or not); `check()` adds what a schema cannot say;
- its `exits`: `next` (it goes on to the step below or its `next`), named two-way exits
  (`yes`/`no`), `paths` (a split) or none;
- `describe()`: the step in one line for the journey's drawing;
- `run()`: what it does to one contact (or says it would, in a dry run: the simulation), and
  optionally `run_set()`: the same for a batch in a few statements;
- `resume()`: where a contact goes when its wait at the step is over.

The engine, validation, the admin's forms, the drawing, simulation and backtest iterate
the registry (campaigns.steps) and know no step type by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from campaigns.engine.journey import Journey
    from campaigns.models import Enrollment
    from segments.evaluation import Known

Error = tuple[str, str]  # (path, message)

WAIT_UNITS = ("days", "hours", "minutes")
DATE_PATH = re.compile(
    r"^(contact\.(created_at|updated_at|attributes\.\w+)|touchpoint\.(occurred_at|properties\.\w+))$"
)


@dataclass(frozen=True)
class Outcome:
    next: str = ""  # the step to go on to; "" ends the journey
    wait_until: datetime | None = None  # stay at this step until then
    exit: bool = False  # leave the journey here
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Field:
    """One control of a step's form. `widget` names how the editor draws it (a control of its
    own, never a step type): text, textarea, url, number, select, time, weekdays, duration,
    date_path, kinds, properties, conditions, email, json, tags, words (a sentence, no value).
    `choices` names a list the editor is given (teams, lists, campaigns, stages, fields,
    templates, kinds)."""

    name: str
    widget: str
    label: str = ""
    aria: str = ""  # what a screen reader calls it; the label when empty
    required: bool = False
    choices: str = ""
    empty: str = ""  # a select's choice for "none"
    placeholder: str = ""
    hint: str = ""
    units: tuple[str, ...] = ()  # a duration's units
    signed: bool = False  # a duration that may go back (before a date)
    wide: bool = False

    def schema(self) -> dict[str, Any]:
        schema = {
            "name": self.name,
            "widget": self.widget,
            "label": self.label,
            "aria": self.aria or self.label,
        }
        for extra in ("required", "choices", "empty", "placeholder", "hint", "units", "signed", "wide"):
            value = getattr(self, extra)
            if value:
                schema[extra] = list(value) if isinstance(value, tuple) else value
        return schema


@dataclass(frozen=True)
class Exit:
    name: str  # the step's field that names where it goes
    label: str  # in the editor: "If yes, go to"
    edge: str  # on the drawing: "yes"


@dataclass
class Run:
    """What a step runs with: the contact's enrollment, the journey, the moment, the kinds and
    segments conditions name, and whether it only says what it would do."""

    enrollment: Enrollment
    journey: Journey
    now: datetime
    known: Known
    dry: bool = False

    def following(self, step: dict) -> str:
        return self.journey.following(step["key"])


class StepType:
    type: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[str] = "action"
    position: ClassVar[int] = 1000  # where the editor lists it; waits first, exit last
    fields: ClassVar[tuple[Field, ...]] = ()
    exits: ClassVar[str | tuple[Exit, ...]] = "next"  # "next", "paths", "none", or named exits
    channel: ClassVar[str | None] = None  # the outbox channel of a step that sends
    key_base: ClassVar[str] = ""  # how a new step's key starts (the type's, dashed, when empty)
    # Keys a step may carry besides its fields: durations of waits are read as fields too.
    extra_keys: ClassVar[tuple[str, ...]] = ()

    # --- the schema ---------------------------------------------------------------------

    def field_names(self) -> set[str]:
        names = set(self.extra_keys)
        for item in self.fields:
            if item.widget == "duration":
                names.update(item.units or WAIT_UNITS)
            elif item.widget == "email":
                names.update(("template", "subject", "body"))
            elif item.widget != "words":
                names.add(item.name)
        return names

    def required_names(self) -> list[str]:
        return [item.name for item in self.fields if item.required]

    def exit_names(self) -> tuple[str, ...]:
        if isinstance(self.exits, tuple):
            return tuple(exit_.name for exit_ in self.exits)
        return ("paths",) if self.exits == "paths" else ()

    def choices(self, *, campaign) -> dict[str, list]:
        """The lists its fields choose from ({"teams": [[slug, name], ...]}), for the editor."""
        return {}

    def defaults(self, options: dict) -> dict:
        """A new step's fields, with what the editor offers (the first template, list, ...)."""
        return {}

    def schema(self) -> dict[str, Any]:
        exits = self.exits
        return {
            "type": self.type,
            "label": self.label,
            "category": self.category,
            "key_base": self.key_base or self.type.replace("_", "-"),
            "fields": [item.schema() for item in self.fields],
            "exits": [{"name": e.name, "label": e.label} for e in exits]
            if isinstance(exits, tuple)
            else exits,
        }

    # --- validation, beyond the schema ----------------------------------------------------

    def check(self, step: dict, path: str, known: Known) -> list[Error]:
        return []

    # --- reading -----------------------------------------------------------------------------

    def describe(self, step: dict, names: dict) -> str:
        """The step in one line. `names` holds what it may name: templates {slug: name},
        campaigns {id: name}."""
        return ""

    def exits_of(self, step: dict) -> list[tuple[str, str]] | None:
        """(label, target) of each named way out; None: it goes on to the next step."""
        if isinstance(self.exits, tuple):
            return [(exit_.edge, step.get(exit_.name) or "") for exit_ in self.exits]
        if self.exits == "none":
            return []
        return None

    # --- running -----------------------------------------------------------------------------

    def run(self, step: dict, run: Run) -> Outcome:
        raise NotImplementedError

    def run_set(self, step: dict, enrollments: list[Enrollment], run: Run) -> dict[int, Outcome] | None:
        """The step for a whole batch, in a few statements: {enrollment id: Outcome}; None
        when the type has no such runner (the engine then runs each contact on its own)."""
        return None

    def woken_by(self, step: dict, *, kind: str, properties: dict) -> bool:
        """Whether a contact waiting at this step goes on at once when a touchpoint of this
        kind, with these properties, arrives."""
        return False

    def resume(self, step: dict, enrollment: Enrollment, journey: Journey) -> str:
        """Where a contact goes when its wait at this step is over."""
        return journey.following(step["key"])


class Computing(StepType):
    """A step that only decides (a wait, a split, an exit): a batch runs each contact's
    decision one after the other, without a savepoint for each."""

    def run_set(self, step, enrollments, run):
        outcomes = {}
        for enrollment in enrollments:
            run.enrollment = enrollment
            outcomes[enrollment.pk] = self.run(step, run)
        return outcomes


def whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def wait_duration(step: dict, units: tuple[str, ...] = WAIT_UNITS) -> timedelta:
    return timedelta(**{unit: step.get(unit, 0) for unit in units})


def check_duration(step: dict, path: str, *, what: str) -> list[Error]:
    errors = []
    for unit in WAIT_UNITS:
        value = step.get(unit, 0)
        if not whole(value) or value < 0:
            errors.append((f"{path}.{unit}", "expected a whole number, 0 or more"))
    if not errors and wait_duration(step) <= timedelta(0):
        errors.append((path, f"{what}: days, hours or minutes"))
    return errors


def check_time(step: dict, path: str, name: str = "time") -> list[Error]:
    from common.clock import parse_time

    if name in step and parse_time(step[name]) is None:
        return [(f"{path}.{name}", f"expected a time of day as HH:MM, e.g. 09:00, not {step[name]!r}")]
    return []


def duration_text(step: dict) -> str:
    return ", ".join(f"{step[unit]} {unit}" for unit in WAIT_UNITS if step.get(unit))


def would(step: dict, run: Run, **change) -> Outcome:
    """A dry run's answer for a step that changes the contact."""
    return Outcome(next=run.following(step), detail={"would_change": change})
