from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Field, StepType
from campaigns.steps.personalise import rendered
from campaigns.steps.sending import contact_of, outbox_write
from messaging.models import OutboxMessage


@step_type_register
class Webhook(StepType):
    type = "webhook"
    label = "Call a webhook"
    category = "message"
    position = 90
    channel = OutboxMessage.Channel.WEBHOOK
    fields = (
        Field("url", "url", label="POST to", required=True, placeholder="https://…", wide=True),
        Field("body", "json", label="and send (JSON)", aria="JSON to send", placeholder='{"list": "webinar"}',
              wide=True),
    )  # fmt: skip

    def defaults(self, options):
        return {"url": "https://"}

    def check(self, step, path, known):
        errors = []
        url = step["url"]
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            errors.append((f"{path}.url", "expected an http(s) address"))
        if not isinstance(step.get("body", {}), dict):
            errors.append((f"{path}.body", "expected an object to send as JSON"))
        return errors

    def describe(self, step, names):
        return f"POST {step['url']}"

    def run(self, step, run):
        contact = contact_of(run)
        campaign_id = run.enrollment.campaign_id
        body = {
            "contact": {"id": contact.pk, "email": contact.email},
            "campaign": campaign_id,
            "step": step["key"],
            **rendered(step.get("body") or {}, contact, campaign_id),
        }
        return outbox_write(step, run, channel=self.channel, payload={"url": step["url"], "body": body})
