from __future__ import annotations

from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType
from campaigns.steps.personalise import render_for
from campaigns.steps.sending import contact_of, outbox_write
from messaging.models import OutboxMessage


@step_type_register
class SendSms(StepType):
    type = "send_sms"
    label = "Send SMS"
    category = "message"
    position = 80
    key_base = "sms"
    channel = OutboxMessage.Channel.SMS
    fields = (Field("body", "textarea", label="Message", required=True, wide=True),)

    def defaults(self, options):
        return {"body": ""}

    def check(self, step, path, known):
        if not isinstance(step["body"], str) or not step["body"].strip():
            return [(f"{path}.body", "expected the text of the message")]
        return []

    def describe(self, step, names):
        return f"“{step['body'][:60]}”"

    def run(self, step, run):
        contact = contact_of(run)
        if not contact.phone:
            return Outcome(next=run.following(step), detail={"skipped": "the contact has no phone"})
        payload = {"to": contact.phone, "body": render_for(step["body"], contact, run.enrollment.campaign_id)}
        return outbox_write(step, run, channel=self.channel, payload=payload)
