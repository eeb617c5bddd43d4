from __future__ import annotations

from campaigns.origins import ORIGIN_TYPE
from campaigns.steps import step_type_register
from campaigns.steps.base import Field, Outcome, StepType
from campaigns.steps.personalise import campaign_name, render_for
from campaigns.steps.sending import contact_of, message_key, outbox_write
from contacts.models import Contact
from messaging.models import EmailTemplate, OutboxMessage
from messaging.outbox import Draft, outbox_queue


@step_type_register
class SendEmail(StepType):
    """An outbox message naming the template (or carrying an inline subject and body); it is
    personalised in the sandbox when it is delivered, with the contact as it is then."""

    type = "send_email"
    label = "Send e-mail"
    category = "message"
    position = 70
    key_base = "email"
    channel = OutboxMessage.Channel.EMAIL
    fields = (Field("template", "email", label="E-mail", aria="E-mail template", choices="templates"),)

    def choices(self, *, campaign):
        return {"templates": list(EmailTemplate.objects.order_by("name").values_list("slug", "name"))}

    def defaults(self, options):
        templates = options["templates"]
        return {"template": templates[0][0]} if templates else {"subject": "", "body": ""}

    def check(self, step, path, known):
        from messaging.email.rendering import template_check

        if "template" in step:
            slug = step["template"]
            if "subject" in step or "body" in step:
                return [(path, "give either a template or an inline subject and body, not both")]
            if not isinstance(slug, str) or not EmailTemplate.objects.filter(slug=slug).exists():
                return [(f"{path}.template", f"no e-mail template with the slug {slug!r}")]
            return []
        missing = [name for name in ("subject", "body") if name not in step]
        if missing:
            return [(f"{path}.template", "name an e-mail template (or give an inline subject and body)")]
        errors = [
            (f"{path}.{name}", "expected text")
            for name in ("subject", "body")
            if not isinstance(step[name], str)
        ]
        for name in ("subject", "body"):
            if not errors:
                errors.extend((f"{path}.{name}", str(problem)) for problem in template_check(step[name]))
        return errors

    def describe(self, step, names):
        if step.get("template"):
            return f"“{names.get('templates', {}).get(step['template'], step['template'])}” (template)"
        return f"“{step['subject']}”"

    @staticmethod
    def _content(step) -> dict:
        if step.get("template"):
            return {"template": step["template"]}
        return {"subject": step["subject"], "body": step["body"]}

    def run(self, step, run):
        email = Contact.objects.filter(pk=run.enrollment.contact_id).values_list("email", flat=True).get()
        payload = {"to": email, **self._content(step)}
        if run.dry:  # a simulation shows the subject as this contact would read it
            payload["subject"] = _subject_for(step, contact_of(run), run.enrollment.campaign_id)
        return outbox_write(step, run, channel=self.channel, payload=payload)

    def run_set(self, step, enrollments, run):
        """Every message written with one INSERT whose unique key makes a second visit of the
        same step write nothing; each is personalised when it is delivered, as above."""
        if run.dry:
            return None
        emails = dict(
            Contact.objects.filter(pk__in=[e.contact_id for e in enrollments]).values_list("pk", "email")
        )
        missing = sorted({e.contact_id for e in enrollments} - set(emails))
        if missing:
            raise Contact.DoesNotExist(f"contacts {missing} no longer exist")
        content = self._content(step)
        keys, drafts = {}, []
        for enrollment in enrollments:
            key = message_key(enrollment_id=enrollment.pk, step_key=step["key"], visit=enrollment.step_visit)
            keys[enrollment.pk] = key
            drafts.append(
                Draft(
                    key=key, channel=self.channel, contact_id=enrollment.contact_id,
                    payload={"to": emails[enrollment.contact_id], **content},
                    origin_type=ORIGIN_TYPE, origin_id=enrollment.campaign_id,
                )
            )  # fmt: skip
        ids = outbox_queue(drafts=drafts, now=run.now)
        following = run.following(step)
        return {e.pk: Outcome(next=following, detail={"message": ids[keys[e.pk]]}) for e in enrollments}


def _subject_for(step: dict, contact: Contact, campaign_id: int | None) -> str:
    from messaging.email.rendering import RenderError
    from messaging.services import email_template_preview

    try:
        if step.get("template"):
            template = EmailTemplate.objects.filter(slug=step["template"]).first()
            if template is None:
                return f"(the e-mail template “{step['template']}” no longer exists)"
            name = campaign_name(campaign_id)
            return email_template_preview(template=template, contact=contact, campaign_name=name).subject
        return " ".join(render_for(step["subject"], contact, campaign_id).split())
    except RenderError as error:
        return f"(cannot be rendered: {error})"
