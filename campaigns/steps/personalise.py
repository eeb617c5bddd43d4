"""Texts a step writes for one contact (an SMS, a webhook's fields, a task's title),
personalised in the e-mails' sandbox: plain values of the contact, its account and the
campaign's name, never a model, a setting or a method."""

from __future__ import annotations

from campaigns.models import Campaign
from contacts.models import Contact
from messaging.channels import email as email_channel
from messaging.email import rendering


def campaign_name(campaign_id: int | None) -> str:
    return Campaign.objects.filter(pk=campaign_id).values_list("name", flat=True).first() or ""


def render_for(text: str, contact: Contact, campaign_id: int | None = None) -> str:
    contact_row, account_row = email_channel.contact_values([contact.pk])[contact.pk]
    data = email_channel.template_data(
        contact=contact_row, account=account_row, campaign_name=campaign_name(campaign_id)
    )
    return rendering.render(text, data, autoescape=False)


def rendered(value, contact: Contact, campaign_id: int | None):
    """Every text inside a value (a webhook's body) personalised, the rest as it is."""
    if isinstance(value, str):
        return render_for(value, contact, campaign_id)
    if isinstance(value, dict):
        return {key: rendered(item, contact, campaign_id) for key, item in value.items()}
    if isinstance(value, list):
        return [rendered(item, contact, campaign_id) for item in value]
    return value
