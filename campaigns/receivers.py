"""Campaigns react in the worker task that announced a change: a goal reached takes
contacts out at once, a touchpoint, a changed field, a lead score that reached the MQL
threshold or a detected intent enrolls them."""

from __future__ import annotations

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

    from campaigns.engine.triggers import triggers_fire
    from campaigns.services import goals_check

    now = timezone.now()
    goals_check(contact_ids=contact_ids, now=now)
    triggers_fire("contacts_changed", contact_ids=contact_ids, fields=list(fields), now=now)


@receiver(lead_score_crossed, dispatch_uid="campaigns.mql")
def on_mql(sender, *, contact_ids: list[int], **kwargs) -> None:
    from django.utils import timezone

    from campaigns.engine.triggers import triggers_fire

    triggers_fire("score_crossed", contact_ids=contact_ids, now=timezone.now())


@receiver(intents_detected, dispatch_uid="campaigns.intents")
def on_intents(sender, *, detections: list[dict], **kwargs) -> None:
    from django.utils import timezone

    from campaigns.engine.triggers import triggers_fire

    triggers_fire("intents_detected", detections=detections, now=timezone.now())
