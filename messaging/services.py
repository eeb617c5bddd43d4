"""Writes for e-mail templates and layouts: each checked in the sandbox before it is saved,
each an action in the ledger with the actor from the context."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from contacts.models import Contact
from ledger.models import Category
from ledger.services import action_record
from messaging.channels.email import CompiledTemplate, Rendered, contact_values, personalise, test_send
from messaging.email import rendering
from messaging.models import DeliveryAttempt, EmailLayout, EmailTemplate, OutboxMessage

logger = logging.getLogger(__name__)

TEMPLATE_FIELDS = ("name", "slug", "subject", "preheader", "html", "text", "layout")
LAYOUT_FIELDS = ("name", "html")


class EmailTemplateError(ValueError):
    """What is wrong, each problem with the field it is in (and the line inside it)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))


def email_template_check(template: EmailTemplate) -> None:
    errors: list[tuple[str, str]] = []
    if not (template.name or "").strip():
        errors.append(("name", "give the template a name"))
    if not (template.subject or "").strip():
        errors.append(("subject", "write a subject"))
    if not (template.html or "").strip() and not (template.text or "").strip():
        errors.append(("html", "write the HTML, the plain text, or both"))
    for field in ("subject", "preheader", "html", "text"):
        source = getattr(template, field) or ""
        errors.extend((field, str(problem)) for problem in rendering.template_check(source))
    if errors:
        raise EmailTemplateError(errors)


def email_layout_check(layout: EmailLayout) -> None:
    errors: list[tuple[str, str]] = []
    if not (layout.name or "").strip():
        errors.append(("name", "give the layout a name"))
    source = layout.html or ""
    if "{{ content }}" not in source.replace("{{content}}", "{{ content }}"):
        errors.append(("html", "write {{ content }} where each e-mail's own HTML goes"))
    errors.extend(
        ("html", str(problem)) for problem in rendering.template_check(source, roots=rendering.LAYOUT_ROOTS)
    )
    if errors:
        raise EmailTemplateError(errors)


def _apply(instance, data: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, list]:
    changes = {}
    for field, value in data.items():
        if field not in allowed:
            raise ValueError(f"unknown field: {field}")
        before = getattr(instance, field)
        if before != value:
            changes[field] = [
                str(before) if field == "layout" else before,
                str(value) if field == "layout" else value,
            ]
            setattr(instance, field, value)
    return changes


def _unique_slug(name: str) -> str:
    base = slugify(name)[:90] or "email"
    slug, number = base, 2
    while EmailTemplate.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


@transaction.atomic
def email_template_create(*, name: str, subject: str, **fields: Any) -> EmailTemplate:
    template = EmailTemplate(name=name, subject=subject)
    _apply(template, fields, TEMPLATE_FIELDS)
    template.slug = template.slug or _unique_slug(name)
    if EmailTemplate.objects.filter(slug=template.slug).exists():
        raise EmailTemplateError([("slug", f"another template has the slug “{template.slug}”")])
    email_template_check(template)
    template.save(force_insert=True)
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT,
        verb="email_template.created",
        obj=template,
        channel="email",
        details={"name": name, "slug": template.slug},
    )
    return template


@transaction.atomic
def email_template_update(*, template: EmailTemplate, data: Mapping[str, Any]) -> dict[str, list]:
    changes = _apply(template, data, TEMPLATE_FIELDS)
    if not changes:
        return changes
    if "slug" in changes:
        if EmailTemplate.objects.filter(slug=template.slug).exclude(pk=template.pk).exists():
            raise EmailTemplateError([("slug", f"another template has the slug “{template.slug}”")])
        used = _used_by(changes["slug"][0])
        if used:
            message = f"campaigns send this template by its slug: {', '.join(used)}; keep the slug"
            raise EmailTemplateError([("slug", message)])
    email_template_check(template)
    template.updated_at = timezone.now()
    template.save()
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT,
        verb="email_template.updated",
        obj=template,
        channel="email",
        details={"fields": sorted(changes)},
    )
    return changes


# Who sends a template, asked before it is deleted: the apps above register a function
# that names their users of a template (campaigns: those whose steps send it).
TemplateUsers = Callable[[str], Iterable[str]]
_template_users: list[TemplateUsers] = []


def email_template_users_register(users: TemplateUsers) -> None:
    _template_users.append(users)


def _used_by(slug: str) -> list[str]:
    """Names of what sends this template, from every registered user."""
    return sorted({name for users in _template_users for name in users(slug)})


@transaction.atomic
def email_template_delete(*, template: EmailTemplate) -> None:
    used = _used_by(template.slug)
    if used:
        raise EmailTemplateError([("slug", f"campaigns send this template: {', '.join(used)}")])
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT,
        verb="email_template.deleted",
        obj=template,
        channel="email",
        details={"name": template.name, "slug": template.slug},
    )
    template.delete()


@transaction.atomic
def email_layout_save(*, layout: EmailLayout, data: Mapping[str, Any]) -> EmailLayout:
    created = layout.pk is None
    changes = _apply(layout, data, LAYOUT_FIELDS)
    if not created and not changes:
        return layout
    email_layout_check(layout)
    layout.updated_at = timezone.now()
    layout.save()
    verb = "email_layout.created" if created else "email_layout.updated"
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT,
        verb=verb,
        obj=layout,
        channel="email",
        details={"name": layout.name},
    )
    return layout


def email_template_preview(*, template: EmailTemplate, contact: Contact, campaign_name: str = "") -> Rendered:
    """The template as this contact would get it, untracked; RenderError when it cannot be."""
    contact_dict, account = contact_values([contact.pk])[contact.pk]
    rendered, _ = personalise(
        CompiledTemplate.of(template),
        contact=contact_dict,
        account=account,
        campaign_name=campaign_name or "(preview)",
        message_id=None,
        test=True,
    )
    return rendered


class TestSendFailed(Exception):
    """The e-mail back-end did not take a test e-mail: what it said, for the person who sent it."""


def email_template_test_send(*, template: EmailTemplate, contact: Contact, to: str) -> Rendered:
    """Send the template, personalised for `contact`, to `to` (the marketer's own address).
    RenderError when it cannot be rendered; TestSendFailed when the e-mail back-end refuses it
    or cannot be reached."""
    try:
        rendered = test_send(template=template, contact=contact, to=to)
    except rendering.RenderError:
        raise
    except Exception as error:  # whatever the configured back-end raises (SMTP, network, API)
        logger.exception("the test of e-mail template %s to %s could not be sent", template.pk, to)
        raise TestSendFailed(
            f"The test could not be sent to {to}: the e-mail back-end ({settings.EMAIL_BACKEND}) "
            f"answered {type(error).__name__}: {error}. Check EMAIL_URL or EMAIL_BACKEND."
        ) from error
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT,
        verb="email_template.test_sent",
        obj=template,
        contact_id=contact.pk,
        channel="email",
        details={"to": to},
    )
    return rendered


# --- a person's data, for export and erasure (contacts.personal_data) -------------------------


def contact_messages(contact: Contact) -> dict:
    """The messages written to the person. E-mails are rendered when delivered: what a sent
    one said is in its ledger action."""
    from contacts.personal_data import iso
    from ledger.models import Action

    subjects = {
        details.get("message"): details.get("subject")
        for details in Action.objects.filter(contact_id=contact.pk, verb="email.sent").values_list(
            "details", flat=True
        )
        if isinstance(details, dict) and details.get("subject")
    }
    return {
        "messages": [
            {
                "channel": message.channel,
                "status": message.status,
                "created_at": iso(message.created_at),
                "sent_at": iso(message.sent_at),
                "payload": message.payload,
                **({"subject": subjects[message.pk]} if message.pk in subjects else {}),
            }
            for message in OutboxMessage.objects.filter(contact_id=contact.pk).order_by("created_at", "pk")
        ]
    }


def contact_messages_erase(contact: Contact) -> dict[str, int]:
    """What is pending for the person is never sent; what was written to them loses its
    content, and its delivery log the provider's words about it."""
    messages = OutboxMessage.objects.filter(contact_id=contact.pk)
    messages.filter(status=OutboxMessage.Status.PENDING).update(
        status=OutboxMessage.Status.SUPPRESSED, next_attempt_at=None
    )
    erased = messages.update(payload={"erased": True}, error="")
    DeliveryAttempt.objects.filter(message__contact_id=contact.pk).update(error="")
    return {"messages": erased}
