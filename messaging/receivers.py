"""What the e-mail service reports back through django-anymail's tracking webhook."""

from __future__ import annotations

from anymail.signals import tracking
from django.dispatch import receiver

# django-anymail's event types: "bounced" is permanent; "deferred" is a temporary failure.
_ANYMAIL_FEEDBACK = {
    "bounced": ("bounce", "hard"),
    "deferred": ("bounce", "soft"),
    "complained": ("complaint", ""),
}


@receiver(tracking, dispatch_uid="messaging.anymail_tracking")
def on_esp_tracking(sender, *, event, esp_name: str, **kwargs) -> None:
    """Bounces and complaints reported by the ESP's own webhook, through django-anymail."""
    if event.event_type not in _ANYMAIL_FEEDBACK or not event.recipient:
        return
    from ledger.context import ALGORITHMIC, Actor, acting_as
    from messaging.feedback import EmailFeedback, email_feedback_record

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
