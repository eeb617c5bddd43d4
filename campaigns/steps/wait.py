from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Computing, Field, Outcome, check_duration, duration_text, wait_duration


@step_type_register
class Wait(Computing):
    type = "wait"
    label = "Wait"
    category = "wait"
    position = 10
    fields = (
        Field("", "words", label="Wait for"),
        Field("duration", "duration", units=("days", "hours", "minutes")),
    )

    def defaults(self, options):
        return {"days": 1}

    def check(self, step, path, known):
        return check_duration(step, path, what="a wait needs a duration")

    def describe(self, step, names):
        return f"for {duration_text(step)}"

    def run(self, step, run):
        until = run.now + wait_duration(step)
        return Outcome(wait_until=until, detail={"until": until.isoformat()})
