from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType, would
from campaigns.steps.sending import contact_of
from contacts.services import contact_update

SETTABLE_FIELDS = ("first_name", "last_name", "job_title", "city", "country", "source", "timezone", "phone")


@step_type_register
class SetField(StepType):
    type = "set_field"
    label = "Set field"
    position = 170
    fields = (
        Field("field", "select", label="Field", required=True, choices="fields"),
        Field("value", "text", label="becomes", aria="Value", required=True),
    )

    def choices(self, *, campaign):
        return {"fields": [[name, name.replace("_", " ")] for name in SETTABLE_FIELDS]}

    def defaults(self, options):
        return {"field": SETTABLE_FIELDS[0], "value": ""}

    def check(self, step, path, known):
        if step["field"] not in SETTABLE_FIELDS:
            return [(f"{path}.field", f"expected one of {', '.join(SETTABLE_FIELDS)}")]
        if not isinstance(step["value"], str):
            return [(f"{path}.value", "expected text")]
        return []

    def describe(self, step, names):
        return f"{step['field']} = {step['value']}"

    def run(self, step, run):
        if run.dry:
            return would(step, run, **{step["field"]: step["value"]})
        changes = contact_update(contact=contact_of(run), data={step["field"]: step["value"]})
        return Outcome(next=run.following(step), detail={"changes": changes})
