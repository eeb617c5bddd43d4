"""Segments re-form as contacts act and change: the receivers of contacts' signals run in
the worker task that announced the change, for only the contacts concerned."""

from __future__ import annotations

from django.dispatch import receiver

from contacts.signals import contacts_changed, touchpoints_captured
from intents.signals import intents_detected
from segments.services import (
    segments_react_to_contacts,
    segments_react_to_intents,
    segments_react_to_touchpoints,
)


@receiver(touchpoints_captured, dispatch_uid="segments.touchpoints")
def on_touchpoints(sender, *, touchpoint_ids: list[int], **kwargs) -> None:
    segments_react_to_touchpoints(touchpoint_ids=touchpoint_ids)


@receiver(contacts_changed, dispatch_uid="segments.contacts")
def on_contacts(sender, *, contact_ids: list[int], fields: list[str], **kwargs) -> None:
    segments_react_to_contacts(contact_ids=contact_ids, fields=fields)


@receiver(intents_detected, dispatch_uid="segments.intents")
def on_intents(sender, *, detections: list[dict], **kwargs) -> None:
    segments_react_to_intents(detections=detections)
