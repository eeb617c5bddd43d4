"""What each step type does to one contact. A step returns where the journey goes next;
its effects go through the contacts services, so each is an action in the ledger of the
campaign's (algorithmic) actor."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from campaigns.engine.graph import Journey, wait_duration
from campaigns.models import Enrollment, OutboxMessage
from contacts.models import Contact
from contacts.services import contact_tags_add, contact_tags_remove, contact_update
from segments.evaluation import Known, matches, parsed


@dataclass(frozen=True)
class Outcome:
    next: str = ""  # the step to go on to; "" ends the journey
    wait_until: datetime | None = None  # stay at this step until then
    exit: bool = False  # leave the journey here
    detail: dict = field(default_factory=dict)


def run(step: dict, *, enrollment: Enrollment, journey: Journey, now: datetime, known: Known) -> Outcome:
    if step["type"] == "branch":
        return _branch(step, enrollment, now, known)
    return _RUNNERS[step["type"]](step, enrollment, journey, now)


def holds(tree, *, contact_id: int, now: datetime, known: Known) -> bool:
    """A condition tree for one contact: the segments' own evaluation."""
    return matches(parsed(tree, known=known), contact_id=contact_id, now=now, known=known)


def message_key(*, enrollment_id: int, step_key: str, visit: int) -> str:
    """The same step visit always yields the same key, so its message exists once."""
    return hashlib.sha256(f"{enrollment_id}:{step_key}:{visit}".encode()).hexdigest()


def split_bucket(*, contact_id: int, step_key: str) -> int:
    """0-99, the same for a contact at a step every time: a split never reshuffles anyone."""
    digest = hashlib.sha256(f"{contact_id}:{step_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def _following(step, enrollment, journey) -> str:
    return journey.following(step["key"])


def _wait(step, enrollment, journey, now):
    until = now + wait_duration(step)
    return Outcome(wait_until=until, detail={"until": until.isoformat()})


def _branch(step, enrollment, now, known):
    answer = holds(step["conditions"], contact_id=enrollment.contact_id, now=now, known=known)
    return Outcome(next=(step.get("yes") if answer else step.get("no")) or "", detail={"answer": answer})


def _random_split(step, enrollment, journey, now):
    bucket = split_bucket(contact_id=enrollment.contact_id, step_key=step["key"])
    floor = 0
    for index, path in enumerate(step["paths"]):
        floor += path["percent"]
        if bucket < floor:
            return Outcome(next=path.get("next") or "", detail={"path": index, "bucket": bucket})
    return Outcome(detail={"bucket": bucket})  # unreachable when the percentages add up to 100


def _send_email(step, enrollment, journey, now):
    """An outbox message naming the template (or carrying the inline subject and body); it is
    personalised in the sandbox when it is delivered, with the contact as it is then."""
    email = Contact.objects.filter(pk=enrollment.contact_id).values_list("email", flat=True).get()
    key = message_key(enrollment_id=enrollment.pk, step_key=step["key"], visit=enrollment.step_visit)
    if step.get("template"):
        payload = {"to": email, "template": step["template"]}
    else:
        payload = {"to": email, "subject": step["subject"], "body": step["body"]}
    message, created = OutboxMessage.objects.get_or_create(
        key=key,
        defaults={
            "channel": OutboxMessage.Channel.EMAIL,
            "campaign_id": enrollment.campaign_id,
            "enrollment": enrollment,
            "contact_id": enrollment.contact_id,
            "payload": payload,
            "created_at": now,
        },
    )
    if created:
        message_id = message.pk

        def deliver() -> None:
            from campaigns.tasks import outbox_deliver_task

            outbox_deliver_task.delay(message_id=message_id)

        transaction.on_commit(deliver)
    return Outcome(next=_following(step, enrollment, journey), detail={"message": message.pk})


def _contact(enrollment) -> Contact:
    return Contact.objects.get(pk=enrollment.contact_id)


def _add_tag(step, enrollment, journey, now):
    added = contact_tags_add(contact=_contact(enrollment), names=step["tags"])
    return Outcome(next=_following(step, enrollment, journey), detail={"added": [tag.name for tag in added]})


def _remove_tag(step, enrollment, journey, now):
    removed = contact_tags_remove(contact=_contact(enrollment), names=step["tags"])
    return Outcome(next=_following(step, enrollment, journey), detail={"removed": [t.name for t in removed]})


def _set_field(step, enrollment, journey, now):
    changes = contact_update(contact=_contact(enrollment), data={step["field"]: step["value"]})
    return Outcome(next=_following(step, enrollment, journey), detail={"changes": changes})


def _adjust_score(step, enrollment, journey, now):
    contact = Contact.objects.select_for_update().get(pk=enrollment.contact_id)
    changes = contact_update(contact=contact, data={"score": contact.score + step["by"]})
    return Outcome(next=_following(step, enrollment, journey), detail={"changes": changes})


def _set_lifecycle_stage(step, enrollment, journey, now):
    changes = contact_update(contact=_contact(enrollment), data={"lifecycle_stage": step["stage"]})
    return Outcome(next=_following(step, enrollment, journey), detail={"changes": changes})


def _exit(step, enrollment, journey, now):
    return Outcome(exit=True)


_RUNNERS = {
    "wait": _wait,
    "random_split": _random_split,
    "send_email": _send_email,
    "add_tag": _add_tag,
    "remove_tag": _remove_tag,
    "set_field": _set_field,
    "adjust_score": _adjust_score,
    "set_lifecycle_stage": _set_lifecycle_stage,
    "exit": _exit,
}
