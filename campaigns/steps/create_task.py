from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model

import routing.services as routing
from campaigns.models import Campaign
from campaigns.origins import campaign_origin
from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType, whole
from campaigns.steps.personalise import render_for
from campaigns.steps.sending import contact_of, message_key


@step_type_register
class CreateTask(StepType):
    type = "create_task"
    label = "Create a task"
    position = 110
    fields = (
        Field("title", "text", label="Task", required=True, wide=True),
        Field("assignee", "user", label="For", aria="Assignee", placeholder="owner"),
        Field("due_hours", "number", label="Due in (hours)", aria="Due in hours", placeholder="24"),
    )

    def defaults(self, options):
        return {"title": ""}

    def check(self, step, path, known):
        errors = []
        if not isinstance(step["title"], str) or not step["title"].strip():
            errors.append((f"{path}.title", "expected the task's title"))
        assignee = step.get("assignee", "owner")
        if assignee != "owner" and not get_user_model().objects.filter(username=assignee).exists():
            message = f"expected “owner” (the contact's) or a username; no user {assignee!r}"
            errors.append((f"{path}.assignee", message))
        due = step.get("due_hours", 24)
        if not whole(due) or due < 0:
            errors.append((f"{path}.due_hours", "expected a whole number of hours, 0 or more"))
        return errors

    def describe(self, step, names):
        who, due = step.get("assignee", "owner"), step.get("due_hours", 24)
        return f"“{step['title']}” for {who}, due in {due} h"

    def run(self, step, run):
        contact = contact_of(run)
        following = run.following(step)
        assignee = step.get("assignee", "owner")
        if assignee == "owner":
            assignee_id = contact.owner_id
        else:
            assignee_id = (
                get_user_model().objects.filter(username=assignee).values_list("pk", flat=True).first()
            )
        title = render_for(step["title"], contact, run.enrollment.campaign_id)
        due_at = run.now + timedelta(hours=step.get("due_hours", 24))
        if run.dry:
            would = {"title": title, "assignee": assignee_id, "due_at": due_at.isoformat()}
            return Outcome(next=following, detail={"would_create_task": would})
        enrollment = run.enrollment
        task = routing.task_create(
            title=title, contact=contact, assignee_id=assignee_id, due_at=due_at, now=run.now,
            origin=campaign_origin(Campaign.objects.get(pk=enrollment.campaign_id)),
            key=message_key(enrollment_id=enrollment.pk, step_key=step["key"], visit=enrollment.step_visit),
        )  # fmt: skip
        return Outcome(next=following, detail={"task": task.pk, "assignee": assignee_id})
