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
from datetime import timedelta
from typing import Any

from campaigns.engine.clock import parse_time
from contacts.models import LifecycleStage
from segments.conditions.schema import ConditionError
from segments.evaluation import Known, parsed

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SETTABLE_FIELDS = ("first_name", "last_name", "job_title", "city", "country", "source", "timezone", "phone")
WAIT_UNITS = ("days", "hours", "minutes")
DATE_PATH = re.compile(
    r"^(contact\.(created_at|updated_at|attributes\.\w+)|touchpoint\.(occurred_at|properties\.\w+))$"
)

# For each type, the fields it needs (besides key, type, next), those it may have, and the
# exits it names.
STEP_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "wait": {"fields": (), "exits": ()},
    "wait_until_time": {"fields": ("time",), "optional": ("weekdays",), "exits": ()},
    "wait_until_date": {"fields": ("date",), "optional": ("time",), "exits": ()},
    "wait_for_event": {"fields": ("kinds",), "optional": ("properties",), "exits": ("yes", "no")},
    "branch": {"fields": ("conditions",), "exits": ("yes", "no")},
    "random_split": {"fields": ("paths",), "exits": ()},
    # send_email: a stored template by slug, or an inline subject and body (plain text)
    "send_email": {"fields": (), "optional": ("template", "subject", "body"), "exits": ()},
    "send_sms": {"fields": ("body",), "exits": ()},
    "webhook": {"fields": ("url",), "optional": ("body",), "exits": ()},
    "assign_owner": {"fields": (), "optional": ("team",), "exits": ()},
    "create_task": {"fields": ("title",), "optional": ("assignee", "due_hours"), "exits": ()},
    "add_to_list": {"fields": ("list",), "exits": ()},
    "remove_from_list": {"fields": ("list",), "exits": ()},
    "enroll_campaign": {"fields": ("campaign",), "exits": ()},
    "add_tag": {"fields": ("tags",), "exits": ()},
    "remove_tag": {"fields": ("tags",), "exits": ()},
    "set_field": {"fields": ("field", "value"), "exits": ()},
    "adjust_score": {"fields": ("by",), "exits": ()},
    "set_lifecycle_stage": {"fields": ("stage",), "exits": ()},
    "exit": {"fields": (), "exits": ()},
}
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


def two_way_exit(step: dict, answer: bool) -> str:
    """Where a step with two exits (a branch, a wait for an event) goes: `yes` when the
    answer is yes, else `no`; "" ends the journey."""
    return (step.get("yes") if answer else step.get("no")) or ""


def wait_duration(step: dict) -> timedelta:
    return timedelta(**{unit: step.get(unit, 0) for unit in WAIT_UNITS})


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
    kind = step.get("type")
    if kind not in STEP_TYPES:
        return [(f"{path}.type", f"unknown step type {kind!r}; expected one of {', '.join(STEP_TYPES)}")]
    spec = STEP_TYPES[kind]
    errors = []
    unknown = set(step) - ALLOWED - set(spec["fields"]) - set(spec.get("optional", ())) - set(spec["exits"])
    errors.extend((f"{path}.{name}", "unknown field for this step type") for name in sorted(unknown))
    errors.extend((f"{path}.{name}", "required") for name in spec["fields"] if name not in step)
    for name in ("next", *spec["exits"]):
        target = step.get(name)
        if target not in (None, "") and target not in keys:
            errors.append((f"{path}.{name}", f"no step with the key {target!r}"))
    if errors:
        return errors
    checker = globals().get(f"_check_{kind}")
    return checker(step, path, known) if checker else []


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_wait(step, path, known, *, what="a wait needs a duration"):
    errors = []
    for unit in WAIT_UNITS:
        value = step.get(unit, 0)
        if not _whole(value) or value < 0:
            errors.append((f"{path}.{unit}", "expected a whole number, 0 or more"))
    if not errors and wait_duration(step) <= timedelta(0):
        errors.append((path, f"{what}: days, hours or minutes"))
    return errors


def _check_time(step, path, name="time"):
    if name in step and parse_time(step[name]) is None:
        return [(f"{path}.{name}", f"expected a time of day as HH:MM, e.g. 09:00, not {step[name]!r}")]
    return []


def _check_wait_until_time(step, path, known):
    errors = _check_time(step, path)
    weekdays = step.get("weekdays", [0, 1, 2, 3, 4, 5, 6])
    if not isinstance(weekdays, list) or not weekdays or not all(_whole(d) and 0 <= d <= 6 for d in weekdays):
        errors.append((f"{path}.weekdays", "expected a list of weekdays, 0 (Monday) to 6 (Sunday)"))
    return errors


def _check_wait_until_date(step, path, known):
    errors = _check_time(step, path)
    date = step["date"]
    if not isinstance(date, str) or not DATE_PATH.match(date):
        errors.append(
            (f"{path}.date", "expected the path of a date: contact.created_at, contact.attributes.NAME, "
             "touchpoint.occurred_at or touchpoint.properties.NAME (the touchpoint that brought the contact)")
        )  # fmt: skip
    for unit in ("days", "hours"):
        if not _whole(step.get(unit, 0)):
            errors.append((f"{path}.{unit}", "expected a whole number; negative for before the date"))
    if "minutes" in step:
        errors.append((f"{path}.minutes", "a date moves by days and hours"))
    return errors


def _check_wait_for_event(step, path, known):
    errors = _check_wait(step, path, known, what="give the time to wait for the event before “no”")
    kinds = step["kinds"]
    if not isinstance(kinds, list) or not kinds or not all(isinstance(kind, str) for kind in kinds):
        errors.append((f"{path}.kinds", 'expected a list of touchpoint kinds, e.g. ["webinar_attended"]'))
    else:
        unknown = [kind for kind in kinds if kind not in known.vocabulary.kinds]
        if unknown:
            errors.append((f"{path}.kinds", f"unknown touchpoint kinds: {', '.join(unknown)}"))
    if not isinstance(step.get("properties", {}), dict):
        message = 'expected the properties it must have, e.g. {"webinar_id": "w-42"}'
        errors.append((f"{path}.properties", message))
    return errors


def _check_branch(step, path, known):
    try:
        parsed(step["conditions"], known=known)
    except ConditionError as error:
        return [(f"{path}.conditions{'.' + sub if sub else ''}", message) for sub, message in error.errors]
    return []


def _check_random_split(step, path, known):
    paths = step["paths"]
    if not isinstance(paths, list) or len(paths) < 2:
        return [(f"{path}.paths", 'expected two or more paths, each {"percent": N, "next": key}')]
    errors = []
    for index, exit_ in enumerate(paths):
        where = f"{path}.paths[{index}]"
        if not isinstance(exit_, dict) or not isinstance(exit_.get("percent"), int) or exit_["percent"] < 0:
            errors.append((f"{where}.percent", "expected a whole percentage"))
    if not errors and sum(exit_["percent"] for exit_ in paths) != 100:
        errors.append((f"{path}.paths", "the percentages must add up to 100"))
    return errors


def _check_send_email(step, path, known):
    from messaging.email.rendering import template_check
    from messaging.models import EmailTemplate

    if "template" in step:
        slug = step["template"]
        if "subject" in step or "body" in step:
            return [(path, "give either a template or an inline subject and body, not both")]
        if not isinstance(slug, str) or not EmailTemplate.objects.filter(slug=slug).exists():
            return [(f"{path}.template", f"no e-mail template with the slug {slug!r}")]
        return []
    missing = [name for name in ("subject", "body") if name not in step]
    if missing:
        return [(f"{path}.template", "name an e-mail template (or give an inline subject and body)")]
    errors = [
        (f"{path}.{name}", "expected text") for name in ("subject", "body") if not isinstance(step[name], str)
    ]
    for name in ("subject", "body"):
        if not errors:
            errors.extend((f"{path}.{name}", str(problem)) for problem in template_check(step[name]))
    return errors


def _check_send_sms(step, path, known):
    if not isinstance(step["body"], str) or not step["body"].strip():
        return [(f"{path}.body", "expected the text of the message")]
    return []


def _check_webhook(step, path, known):
    errors = []
    url = step["url"]
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        errors.append((f"{path}.url", "expected an http(s) address"))
    if not isinstance(step.get("body", {}), dict):
        errors.append((f"{path}.body", "expected an object to send as JSON"))
    return errors


def _check_assign_owner(step, path, known):
    from routing.models import Team

    team = step.get("team")
    if team is not None and not Team.objects.filter(slug=team).exists():
        return [(f"{path}.team", f"no team with the slug {team!r}")]
    return []


def _check_create_task(step, path, known):
    from django.contrib.auth import get_user_model

    errors = []
    if not isinstance(step["title"], str) or not step["title"].strip():
        errors.append((f"{path}.title", "expected the task's title"))
    assignee = step.get("assignee", "owner")
    if assignee != "owner" and not get_user_model().objects.filter(username=assignee).exists():
        message = f"expected “owner” (the contact's) or a username; no user {assignee!r}"
        errors.append((f"{path}.assignee", message))
    due = step.get("due_hours", 24)
    if not _whole(due) or due < 0:
        errors.append((f"{path}.due_hours", "expected a whole number of hours, 0 or more"))
    return errors


def _check_list(step, path, known):
    from segments.models import Segment

    slug = step["list"]
    kind = None
    if isinstance(slug, str):
        kind = Segment.objects.filter(slug=slug).values_list("kind", flat=True).first()
    if kind is None:
        return [(f"{path}.list", f"no static list with the slug {slug!r}")]
    if kind != Segment.Kind.STATIC:
        return [(f"{path}.list", f"{slug} is defined by conditions; only static lists take members")]
    return []


_check_add_to_list = _check_remove_from_list = _check_list


def _check_enroll_campaign(step, path, known):
    from campaigns.models import Campaign

    target = step["campaign"]
    if not _whole(target) or not Campaign.objects.filter(pk=target).exists():
        return [(f"{path}.campaign", f"no campaign with the id {target!r}")]
    return []


def _check_tags(step, path, known):
    tags = step["tags"]
    named = isinstance(tags, list) and all(isinstance(tag, str) and tag.strip() for tag in tags)
    if not tags or not named:
        return [(f"{path}.tags", "expected a list of tag names")]
    return []


_check_add_tag = _check_remove_tag = _check_tags


def _check_set_field(step, path, known):
    if step["field"] not in SETTABLE_FIELDS:
        return [(f"{path}.field", f"expected one of {', '.join(SETTABLE_FIELDS)}")]
    if not isinstance(step["value"], str):
        return [(f"{path}.value", "expected text")]
    return []


def _check_adjust_score(step, path, known):
    by = step["by"]
    if not isinstance(by, int) or isinstance(by, bool):
        return [(f"{path}.by", "expected a whole number, e.g. 10 or -5")]
    return []


def _check_set_lifecycle_stage(step, path, known):
    if step["stage"] not in LifecycleStage.values:
        return [(f"{path}.stage", f"expected one of {', '.join(LifecycleStage.values)}")]
    return []
