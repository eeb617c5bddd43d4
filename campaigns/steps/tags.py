"""Tagging a contact, and taking tags off."""

from __future__ import annotations

from campaigns.steps.base import Field, Outcome, StepType, would
from campaigns.steps.sending import contact_of
from contacts.services import contact_tags_add, contact_tags_remove, contacts_tags_add, contacts_tags_remove


class TagStep(StepType):
    add: bool
    fields = (
        Field(
            "tags",
            "tags",
            label="Tags",
            required=True,
            placeholder="one, or several separated by commas",
            wide=True,
        ),
    )

    def defaults(self, options):
        return {"tags": []}

    def check(self, step, path, known):
        tags = step["tags"]
        named = isinstance(tags, list) and all(isinstance(tag, str) and tag.strip() for tag in tags)
        if not tags or not named:
            return [(f"{path}.tags", "expected a list of tag names")]
        return []

    def describe(self, step, names):
        return ", ".join(step["tags"])

    @property
    def _said(self) -> str:
        return "added" if self.add else "removed"

    def run(self, step, run):
        if run.dry:
            return would(step, run, **{"add_tags" if self.add else "remove_tags": step["tags"]})
        change = contact_tags_add if self.add else contact_tags_remove
        changed = change(contact=contact_of(run), names=step["tags"])
        return Outcome(next=run.following(step), detail={self._said: [tag.name for tag in changed]})

    def run_set(self, step, enrollments, run):
        if run.dry:
            return None
        change = contacts_tags_add if self.add else contacts_tags_remove
        changed = change(contact_ids=[e.contact_id for e in enrollments], names=step["tags"])
        following = run.following(step)
        return {
            e.pk: Outcome(
                next=following, detail={self._said: [tag.name for tag in changed.get(e.contact_id, [])]}
            )
            for e in enrollments
        }
