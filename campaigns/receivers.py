"""Campaigns react in the worker task that announced a change: a goal reached takes
contacts out at once, a touchpoint trigger enrolls them."""

from __future__ import annotations

from django.dispatch import receiver

from contacts.signals import contacts_changed, touchpoints_captured


@receiver(touchpoints_captured, dispatch_uid="campaigns.touchpoints")
def on_touchpoints(sender, *, touchpoint_ids: list[int], **kwargs) -> None:
    from campaigns.services import campaigns_react_to_touchpoints

    campaigns_react_to_touchpoints(touchpoint_ids=touchpoint_ids)


@receiver(contacts_changed, dispatch_uid="campaigns.contacts")
def on_contacts(sender, *, contact_ids: list[int], **kwargs) -> None:
    """A changed field can reach a goal ("lifecycle stage is customer"): out at once."""
    from django.utils import timezone

    from campaigns.services import goals_check

    goals_check(contact_ids=contact_ids, now=timezone.now())
