from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType, whole, would
from contacts.models import Contact
from contacts.services import contact_update, contacts_score_adjust


@step_type_register
class AdjustScore(StepType):
    type = "adjust_score"
    label = "Adjust score"
    position = 180
    fields = (
        Field("by", "number", label="Score by", aria="Score points", required=True, signed=True),
        Field("", "words", label="points (negative to lower it)"),
    )

    def defaults(self, options):
        return {"by": 10}

    def check(self, step, path, known):
        if not whole(step["by"]):
            return [(f"{path}.by", "expected a whole number, e.g. 10 or -5")]
        return []

    def describe(self, step, names):
        return f"{step['by']:+d}"

    def run(self, step, run):
        if run.dry:
            return would(step, run, score_by=step["by"])
        contact = Contact.objects.select_for_update().get(pk=run.enrollment.contact_id)
        changes = contact_update(contact=contact, data={"score": contact.score + step["by"]})
        return Outcome(next=run.following(step), detail={"changes": changes})

    def run_set(self, step, enrollments, run):
        if run.dry:
            return None
        changes = contacts_score_adjust(contact_ids=[e.contact_id for e in enrollments], by=step["by"])
        following = run.following(step)
        return {
            e.pk: Outcome(next=following, detail={"changes": changes.get(e.contact_id, {})})
            for e in enrollments
        }
