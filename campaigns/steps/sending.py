"""What the steps that send share: the key of a step visit's message, and writing it to
the outbox once."""

from __future__ import annotations

import hashlib

from campaigns.origins import ORIGIN_TYPE
from campaigns.steps.base import Outcome, Run
from contacts.models import Contact
from messaging.outbox import Draft, outbox_queue


def message_key(*, enrollment_id: int, step_key: str, visit: int) -> str:
    """The same step visit always yields the same key, so its message exists once."""
    return hashlib.sha256(f"{enrollment_id}:{step_key}:{visit}".encode()).hexdigest()


def outbox_write(step: dict, run: Run, *, channel: str, payload: dict) -> Outcome:
    """Write the message once (its key is the step visit's); the outbox delivers it after
    commit. In a dry run, only say what would be sent."""
    following = run.following(step)
    if run.dry:
        return Outcome(next=following, detail={"would_send": {"channel": channel, **payload}})
    enrollment = run.enrollment
    key = message_key(enrollment_id=enrollment.pk, step_key=step["key"], visit=enrollment.step_visit)
    draft = Draft(
        key=key, channel=channel, contact_id=enrollment.contact_id, payload=payload,
        origin_type=ORIGIN_TYPE, origin_id=enrollment.campaign_id,
    )  # fmt: skip
    return Outcome(next=following, detail={"message": outbox_queue(drafts=[draft], now=run.now)[key]})


def contact_of(run: Run) -> Contact:
    return Contact.objects.get(pk=run.enrollment.contact_id)
