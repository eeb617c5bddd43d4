from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Exit, Field, Outcome, StepType, check_duration, duration_text, wait_duration


def has_properties(properties: dict | None, wanted: dict | None) -> bool:
    """A touchpoint's properties include every wanted key with its value."""
    properties = properties or {}
    return all(properties.get(key) == value for key, value in (wanted or {}).items())


def event_matches(step: dict, *, kind: str, properties: dict) -> bool:
    return kind in step["kinds"] and has_properties(properties, step.get("properties"))


@step_type_register
class WaitForEvent(StepType):
    """Wait until a touchpoint like this arrives (the campaigns' reaction to touchpoints
    wakes the contact at once) or the time runs out."""

    type = "wait_for_event"
    label = "Wait for an event"
    category = "wait"
    position = 40
    key_base = "wait-event"
    fields = (
        Field("kinds", "kinds", label="Wait for one of", aria="Touchpoints to wait for", required=True,
              choices="kinds"),
        Field("", "words", label="waiting at most"),
        Field("duration", "duration", units=("days", "hours", "minutes")),
        Field("properties", "properties", label="with the properties"),
    )  # fmt: skip
    exits = (
        Exit("yes", "When it comes, go to", "event came"),
        Exit("no", "If the time runs out, go to", "timed out"),
    )

    def defaults(self, options):
        kinds = options["rules"]["kinds"]
        return {"kinds": [kinds[0][0]] if kinds else [], "days": 3, "yes": "", "no": ""}

    def check(self, step, path, known):
        errors = check_duration(step, path, what="give the time to wait for the event before “no”")
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

    def describe(self, step, names):
        where = ", ".join(f"{key} = {value}" for key, value in (step.get("properties") or {}).items())
        return f"{' or '.join(step['kinds'])}{f' ({where})' if where else ''}, at most {duration_text(step)}"

    def run(self, step, run):
        until = run.now + wait_duration(step)
        return Outcome(wait_until=until, detail={"until": until.isoformat(), "kinds": step["kinds"]})

    def woken_by(self, step, *, kind, properties):
        return event_matches(step, kind=kind, properties=properties)

    def resume(self, step, enrollment, journey):
        """By `yes` when the event woke the contact, by `no` when the time ran out."""
        woken = enrollment.context.get("event") or {}
        came = woken.get("step") == step["key"] and woken.get("visit") == enrollment.step_visit
        return (step.get("yes") if came else step.get("no")) or ""
