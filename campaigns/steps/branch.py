from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Exit, Field, Outcome, StepType
from segments.conditions.schema import ConditionError
from segments.evaluation import holds_for, matching_contacts, parsed


@step_type_register
class Branch(StepType):
    type = "branch"
    label = "Branch"
    category = "branch"
    position = 50
    fields = (
        Field("conditions", "conditions", label="If the contact matches", aria="Conditions", required=True),
    )
    exits = (Exit("yes", "If yes, go to", "yes"), Exit("no", "If no, go to", "no"))

    def defaults(self, options):
        return {"conditions": {"all": []}, "yes": "", "no": ""}

    def check(self, step, path, known):
        try:
            parsed(step["conditions"], known=known)
        except ConditionError as error:
            return [
                (f"{path}.conditions{'.' + sub if sub else ''}", message) for sub, message in error.errors
            ]
        return []

    def describe(self, step, names):
        from segments.conditions.explain import explain

        try:
            return f"if {explain(parsed(step['conditions']))}"
        except ValueError:
            return "(conditions no longer valid)"

    def _answer(self, step, answer: bool) -> Outcome:
        return Outcome(next=(step.get("yes") if answer else step.get("no")) or "", detail={"answer": answer})

    def run(self, step, run):
        answer = holds_for(
            step["conditions"], contact_id=run.enrollment.contact_id, now=run.now, known=run.known
        )
        return self._answer(step, answer)

    def run_set(self, step, enrollments, run):
        yes = matching_contacts(
            step["conditions"], contact_ids=[e.contact_id for e in enrollments], now=run.now, known=run.known
        )
        return {e.pk: self._answer(step, e.contact_id in yes) for e in enrollments}
