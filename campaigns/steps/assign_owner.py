from __future__ import annotations

import routing.services as routing
from campaigns.models import Campaign
from campaigns.origins import campaign_origin
from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType
from campaigns.steps.sending import contact_of
from routing.models import Team


@step_type_register
class AssignOwner(StepType):
    type = "assign_owner"
    label = "Assign an owner"
    position = 100
    fields = (Field("team", "select", label="Team", choices="teams", empty="by the routing rules"),)

    def choices(self, *, campaign):
        return {"teams": list(Team.objects.order_by("name").values_list("slug", "name"))}

    def check(self, step, path, known):
        team = step.get("team")
        if team is not None and not Team.objects.filter(slug=team).exists():
            return [(f"{path}.team", f"no team with the slug {team!r}")]
        return []

    def describe(self, step, names):
        return f"team {step['team']}" if step.get("team") else "by the routing rules"

    def run(self, step, run):
        contact = contact_of(run)
        following = run.following(step)
        if run.dry:
            route = routing.owner_route(contact=contact, team=step.get("team"))
            return Outcome(next=following, detail={"would_assign": route.owner_id, "rule": route.rule})
        origin = campaign_origin(Campaign.objects.get(pk=run.enrollment.campaign_id))
        assignment = routing.lead_route(contact=contact, now=run.now, team=step.get("team"), origin=origin)
        if assignment is None:
            return Outcome(next=following, detail={"owner": None})
        return Outcome(next=following, detail={"owner": assignment.owner_id, "rule": assignment.rule})
