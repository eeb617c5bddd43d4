"""Campaigns react in the worker task that announced a change: a goal reached takes
contacts out at once, a touchpoint, a changed field, a lead score that reached the MQL
threshold or a detected intent enrolls them."""

from __future__ import annotations

from anymail.signals import tracking
from django.dispatch import receiver

from contacts.signals import contacts_changed, touchpoints_captured
from intents.scoring import lead_score_crossed
from intents.signals import intents_detected


@receiver(touchpoints_captured, dispatch_uid="campaigns.touchpoints")
def on_touchpoints(sender, *, touchpoint_ids: list[int], **kwargs) -> None:
    from campaigns.services import campaigns_react_to_touchpoints

    campaigns_react_to_touchpoints(touchpoint_ids=touchpoint_ids)


@receiver(contacts_changed, dispatch_uid="campaigns.contacts")
def on_contacts(sender, *, contact_ids: list[int], fields: list[str] = (), **kwargs) -> None:
    """A changed field can reach a goal ("lifecycle stage is customer"): out at once; and
    it can be what a campaign starts on."""
    from django.utils import timezone

    from campaigns.engine.triggers import field_triggers_fire
    from campaigns.services import goals_check

    now = timezone.now()
    goals_check(contact_ids=contact_ids, now=now)
    field_triggers_fire(contact_ids=contact_ids, fields=list(fields), now=now)


@receiver(lead_score_crossed, dispatch_uid="campaigns.mql")
def on_mql(sender, *, contact_ids: list[int], **kwargs) -> None:
    from django.utils import timezone

    from campaigns.engine.triggers import score_triggers_fire

    score_triggers_fire(contact_ids=contact_ids, now=timezone.now())


@receiver(intents_detected, dispatch_uid="campaigns.intents")
def on_intents(sender, *, detections: list[dict], **kwargs) -> None:
    from django.utils import timezone

    from campaigns.engine.triggers import intent_triggers_fire

    intent_triggers_fire(detections=detections, now=timezone.now())


# django-anymail's event types: "bounced" is permanent; "deferred" is a temporary failure.
_ANYMAIL_FEEDBACK = {
    "bounced": ("bounce", "hard"),
    "deferred": ("bounce", "soft"),
    "complained": ("complaint", ""),
}


@receiver(tracking, dispatch_uid="campaigns.anymail_tracking")
def on_esp_tracking(sender, *, event, esp_name: str, **kwargs) -> None:
    """Bounces and complaints reported by the ESP's own webhook, through django-anymail."""
    if event.event_type not in _ANYMAIL_FEEDBACK or not event.recipient:
        return
    from campaigns.channels.feedback import EmailFeedback, email_feedback_record
    from ledger.context import ALGORITHMIC, Actor, acting_as

    kind, bounce_type = _ANYMAIL_FEEDBACK[event.event_type]
    feedback = EmailFeedback(
        type=kind,
        email=event.recipient,
        bounce_type=bounce_type or "hard",
        message_id=str(event.message_id or event.event_id or "")[:200],
        detail=str(event.mta_response or event.description or event.reject_reason or "")[:500],
    )
    with acting_as(Actor(kind=ALGORITHMIC, type="integration", name=f"{esp_name} (via Anymail)"[:200])):
        email_feedback_record(events=[feedback], source=f"{esp_name} webhook")
