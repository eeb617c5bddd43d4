from __future__ import annotations

from campaigns.models import Campaign
from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType, whole

OFFERED = 500  # campaigns the editor lists


@step_type_register
class EnrollCampaign(StepType):
    type = "enroll_campaign"
    label = "Enroll in a campaign"
    position = 140
    fields = (Field("campaign", "select", label="Campaign", required=True, choices="campaigns",
                    empty="(no other campaign)"),)  # fmt: skip

    def choices(self, *, campaign):
        others = Campaign.objects.order_by("name")
        if campaign is not None and campaign.pk:
            others = others.exclude(pk=campaign.pk)
        return {"campaigns": list(others.values_list("pk", "name")[:OFFERED])}

    def defaults(self, options):
        return {"campaign": options["campaigns"][0][0] if options["campaigns"] else None}

    def check(self, step, path, known):
        target = step["campaign"]
        if not whole(target) or not Campaign.objects.filter(pk=target).exists():
            return [(f"{path}.campaign", f"no campaign with the id {target!r}")]
        return []

    def describe(self, step, names):
        name = Campaign.objects.filter(pk=step["campaign"]).values_list("name", flat=True).first()
        return name or f"campaign {step['campaign']} (gone)"

    def run(self, step, run):
        from campaigns.enrollment import NotEnrollable, enroll

        following = run.following(step)
        target = Campaign.objects.select_related("version").get(pk=step["campaign"])
        if run.dry:
            return Outcome(next=following, detail={"would_enroll_in": target.name})
        try:
            created = enroll(
                campaign=target, contact_ids=[run.enrollment.contact_id], now=run.now,
                context={"trigger": "campaign", "from_campaign": run.enrollment.campaign_id},
            )  # fmt: skip
        except NotEnrollable as error:
            return Outcome(next=following, detail={"enrolled": False, "reason": str(error)})
        return Outcome(next=following, detail={"enrolled": bool(created), "campaign": target.pk})
