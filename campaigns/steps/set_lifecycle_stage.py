from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType, would
from campaigns.steps.sending import contact_of
from contacts.models import LifecycleStage
from contacts.services import contact_update


@step_type_register
class SetLifecycleStage(StepType):
    type = "set_lifecycle_stage"
    label = "Set lifecycle stage"
    position = 190
    fields = (Field("stage", "select", label="Stage", required=True, choices="stages"),)

    def choices(self, *, campaign):
        return {"stages": list(LifecycleStage.choices)}

    def defaults(self, options):
        return {"stage": LifecycleStage.values[0]}

    def check(self, step, path, known):
        if step["stage"] not in LifecycleStage.values:
            return [(f"{path}.stage", f"expected one of {', '.join(LifecycleStage.values)}")]
        return []

    def describe(self, step, names):
        return LifecycleStage(step["stage"]).label

    def run(self, step, run):
        if run.dry:
            return would(step, run, lifecycle_stage=step["stage"])
        changes = contact_update(contact=contact_of(run), data={"lifecycle_stage": step["stage"]})
        return Outcome(next=run.following(step), detail={"changes": changes})
