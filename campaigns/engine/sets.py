"""Step kinds run for a whole batch of enrollments at once, one set-based operation each.

A runner here takes every enrollment of a batch that stands at the same step and returns
{enrollment id: Outcome}, with the same effects and the same ledger actions as the
one-contact runner of `campaigns.engine.steps`, only in a few statements. A step kind not
listed here (a new one, or one that is rare) runs contact by contact through `steps.run`:
the engine falls back to that too when a set-based runner fails, so that one contact's
problem fails only its own enrollment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.db import connection

from campaigns.engine import steps as step_runners
from campaigns.engine.graph import Journey, two_way_exit
from campaigns.engine.steps import Outcome, message_key
from campaigns.models import Enrollment
from campaigns.origins import ORIGIN_TYPE
from contacts.models import Contact
from contacts.services import contacts_score_adjust, contacts_tags_add, contacts_tags_remove
from messaging.models import OutboxMessage
from messaging.outbox import Draft, outbox_queue
from segments.evaluation import Known, matching_ids_sql, parsed

Runner = Callable[..., dict[int, Outcome]]


def matching_contacts(tree, *, contact_ids: Sequence[int], now: datetime, known: Known) -> set[int]:
    """Those of the contacts for whom the condition tree holds: the segments' own SQL."""
    if not contact_ids:
        return set()
    sql, params = matching_ids_sql(parsed(tree, known=known), now=now, contact_ids=True, known=known)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, list(contact_ids)])
        return {row[0] for row in cursor.fetchall()}


def _each(step: dict, enrollments: list[Enrollment], *, journey: Journey, now: datetime, known: Known):
    """Kinds that only compute (a wait, a split, an exit): the one-contact runner for each."""
    return {
        enrollment.pk: step_runners.run(step, enrollment=enrollment, journey=journey, now=now, known=known)
        for enrollment in enrollments
    }


def _branch(step, enrollments, *, journey, now, known):
    yes = matching_contacts(
        step["conditions"], contact_ids=[e.contact_id for e in enrollments], now=now, known=known
    )
    outcomes = {}
    for enrollment in enrollments:
        answer = enrollment.contact_id in yes
        outcomes[enrollment.pk] = Outcome(next=two_way_exit(step, answer), detail={"answer": answer})
    return outcomes


def _add_tag(step, enrollments, *, journey, now, known):
    added = contacts_tags_add(contact_ids=[e.contact_id for e in enrollments], names=step["tags"])
    following = journey.following(step["key"])
    return {
        e.pk: Outcome(next=following, detail={"added": [tag.name for tag in added.get(e.contact_id, [])]})
        for e in enrollments
    }


def _remove_tag(step, enrollments, *, journey, now, known):
    removed = contacts_tags_remove(contact_ids=[e.contact_id for e in enrollments], names=step["tags"])
    following = journey.following(step["key"])
    return {
        e.pk: Outcome(next=following, detail={"removed": [tag.name for tag in removed.get(e.contact_id, [])]})
        for e in enrollments
    }


def _adjust_score(step, enrollments, *, journey, now, known):
    changes = contacts_score_adjust(contact_ids=[e.contact_id for e in enrollments], by=step["by"])
    following = journey.following(step["key"])
    return {
        e.pk: Outcome(next=following, detail={"changes": changes.get(e.contact_id, {})}) for e in enrollments
    }


def _send_email(step, enrollments, *, journey, now, known):
    """Every message written with one INSERT whose unique key makes a second visit of the
    same step write nothing; each is personalised in the sandbox when it is delivered, like
    the one-contact runner's, and delivered after commit."""
    emails = dict(
        Contact.objects.filter(pk__in=[e.contact_id for e in enrollments]).values_list("pk", "email")
    )
    missing = sorted({e.contact_id for e in enrollments} - set(emails))
    if missing:
        raise Contact.DoesNotExist(f"contacts {missing} no longer exist")
    if step.get("template"):
        content = {"template": step["template"]}
    else:
        content = {"subject": step["subject"], "body": step["body"]}
    keys, drafts = {}, []
    for enrollment in enrollments:
        key = message_key(enrollment_id=enrollment.pk, step_key=step["key"], visit=enrollment.step_visit)
        keys[enrollment.pk] = key
        payload = {"to": emails[enrollment.contact_id], **content}
        drafts.append(
            Draft(
                key=key, channel=OutboxMessage.Channel.EMAIL, contact_id=enrollment.contact_id,
                payload=payload, origin_type=ORIGIN_TYPE, origin_id=enrollment.campaign_id,
            )
        )  # fmt: skip
    ids = outbox_queue(drafts=drafts, now=now)
    following = journey.following(step["key"])
    return {e.pk: Outcome(next=following, detail={"message": ids[keys[e.pk]]}) for e in enrollments}


RUNNERS: dict[str, Runner] = {
    "branch": _branch,
    "add_tag": _add_tag,
    "remove_tag": _remove_tag,
    "adjust_score": _adjust_score,
    "send_email": _send_email,
    "wait": _each,
    "random_split": _each,
    "exit": _each,
}
