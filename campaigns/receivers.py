"""Campaigns react to touchpoints in the worker task that announced them: a goal reached
takes contacts out at once, a trigger enrolls them."""

from __future__ import annotations

from django.dispatch import receiver

from contacts.signals import touchpoints_captured


@receiver(touchpoints_captured, dispatch_uid="campaigns.touchpoints")
def on_touchpoints(sender, *, touchpoint_ids: list[int], **kwargs) -> None:
    from campaigns.services import campaigns_react_to_touchpoints

    campaigns_react_to_touchpoints(touchpoint_ids=touchpoint_ids)
