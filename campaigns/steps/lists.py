"""Adding a contact to a static list, and taking it off one."""

from __future__ import annotations

from campaigns.steps.base import Field, Outcome, StepType
from segments.models import Segment
from segments.services import static_members_add, static_members_remove


class ListStep(StepType):
    add: bool
    fields = (Field("list", "select", label="Static list", aria="List", required=True, choices="lists",
                    empty="(no static list yet)"),)  # fmt: skip

    def choices(self, *, campaign):
        lists = Segment.objects.filter(kind=Segment.Kind.STATIC).order_by("name").values_list("slug", "name")
        return {"lists": list(lists)}

    def defaults(self, options):
        return {"list": options["lists"][0][0] if options["lists"] else ""}

    def check(self, step, path, known):
        slug = step["list"]
        kind = None
        if isinstance(slug, str):
            kind = Segment.objects.filter(slug=slug).values_list("kind", flat=True).first()
        if kind is None:
            return [(f"{path}.list", f"no static list with the slug {slug!r}")]
        if kind != Segment.Kind.STATIC:
            return [(f"{path}.list", f"{slug} is defined by conditions; only static lists take members")]
        return []

    def describe(self, step, names):
        return step["list"]

    def run(self, step, run):
        following = run.following(step)
        verb = "added_to" if self.add else "removed_from"
        if run.dry:
            return Outcome(next=following, detail={f"would_be_{verb}": step["list"]})
        segment = Segment.objects.get(slug=step["list"])
        change = static_members_add if self.add else static_members_remove
        changed = change(segment=segment, contact_ids=[run.enrollment.contact_id])
        return Outcome(next=following, detail={verb: step["list"], "changed": bool(changed)})
