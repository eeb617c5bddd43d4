"""What each step type does to one contact. A step returns where the journey goes next;
its effects go through the contacts services, so each is an action in the ledger of the
campaign's (algorithmic) actor.

In a dry run (`run(..., dry_run=True)`, the simulation) each step decides exactly as it
would, with the same code, and says what it would do instead of doing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection

from campaigns.engine import clock
from campaigns.engine.graph import Journey, two_way_exit, wait_duration
from campaigns.models import Campaign, Enrollment
from campaigns.origins import ORIGIN_TYPE, campaign_origin
from contacts.models import Contact, Touchpoint
from contacts.services import contact_tags_add, contact_tags_remove, contact_update
from messaging.models import OutboxMessage, SendingRule
from messaging.outbox import Draft, outbox_queue
from segments.evaluation import Known, matches, parsed

_dry_run: ContextVar[bool] = ContextVar("campaign_step_dry_run", default=False)


@dataclass(frozen=True)
class Outcome:
    next: str = ""  # the step to go on to; "" ends the journey
    wait_until: datetime | None = None  # stay at this step until then
    exit: bool = False  # leave the journey here
    detail: dict = field(default_factory=dict)


def run(
    step: dict,
    *,
    enrollment: Enrollment,
    journey: Journey,
    now: datetime,
    known: Known,
    dry_run: bool = False,
) -> Outcome:
    token = _dry_run.set(dry_run)
    try:
        if step["type"] == "branch":
            return _branch(step, enrollment, now, known)
        return _RUNNERS[step["type"]](step, enrollment, journey, now)
    finally:
        _dry_run.reset(token)


def _dry() -> bool:
    return _dry_run.get()


def resume(*, enrollment: Enrollment, journey: Journey) -> str:
    """Where a contact goes when its wait at the current step is over. A wait for an event
    leaves by `yes` when the event woke it, by `no` when the time ran out."""
    step = journey.step(enrollment.step_key)
    if step is not None and step["type"] == "wait_for_event":
        woken = enrollment.context.get("event") or {}
        came = woken.get("step") == step["key"] and woken.get("visit") == enrollment.step_visit
        return two_way_exit(step, came)
    return journey.following(enrollment.step_key)


CHANNEL_OF_STEP = {
    "send_email": OutboxMessage.Channel.EMAIL,
    "send_sms": OutboxMessage.Channel.SMS,
    "webhook": OutboxMessage.Channel.WEBHOOK,
}


@dataclass(frozen=True)
class Hold:
    until: datetime
    reason: str


def held(step: dict, *, contact_id: int, now: datetime) -> Hold | None:
    """Whether the channel's limits hold one contact's send back (the simulation asks)."""
    return holds_for(step, contact_ids=[contact_id], now=now).get(contact_id)


def holds_for(step: dict, *, contact_ids: Sequence[int], now: datetime) -> dict[int, Hold]:
    """The contacts whose send the channel's limits hold back, and until when: first the
    frequency cap (at most N messages per contact in the last D days, across campaigns),
    then quiet hours in the contact's time zone, at the moment the cap lets it go. Two
    queries for the whole group, whatever its size."""
    channel = CHANNEL_OF_STEP.get(step["type"])
    rule = SendingRule.objects.filter(channel=channel).first() if channel else None
    if rule is None or not contact_ids:
        return {}
    until = dict.fromkeys(contact_ids, now)
    reasons: dict[int, list[str]] = {contact_id: [] for contact_id in contact_ids}
    if rule.cap_messages:
        period = timedelta(days=rule.cap_days)
        for contact_id, oldest in _capped(channel, rule.cap_messages, contact_ids, since=now - period):
            until[contact_id] = oldest + period  # free again when the oldest leaves the period
            reasons[contact_id].append(f"frequency cap: {rule.cap_messages} per {rule.cap_days} days")
    if rule.quiet_start is not None:
        zones = dict(Contact.objects.filter(pk__in=contact_ids).values_list("pk", "timezone"))
        window = f"quiet hours {rule.quiet_start:%H:%M} to {rule.quiet_end:%H:%M}"
        for contact_id in contact_ids:
            tz = clock.zone(zones.get(contact_id))
            opening = clock.quiet_until(until[contact_id], rule.quiet_start, rule.quiet_end, tz)
            if opening is not None:
                until[contact_id] = opening
                reasons[contact_id].append(window)
    return {
        contact_id: Hold(until=until[contact_id], reason=", ".join(why))
        for contact_id, why in reasons.items()
        if why
    }


def _capped(
    channel: str, cap: int, contact_ids: Sequence[int], *, since: datetime
) -> list[tuple[int, datetime]]:
    """Contacts with `cap` or more messages on the channel since then, each with the time of
    the cap-th most recent one."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT contact_id, created_at FROM (
                SELECT contact_id, created_at,
                       row_number() OVER (PARTITION BY contact_id ORDER BY created_at DESC) AS nth
                  FROM campaigns_outboxmessage
                 WHERE contact_id = ANY(%s) AND channel = %s AND created_at > %s AND status <> %s
            ) recent
             WHERE nth = %s
            """,
            [list(contact_ids), channel, since, OutboxMessage.Status.SUPPRESSED, cap],
        )
        return cursor.fetchall()


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
    return Outcome(next=two_way_exit(step, answer), detail={"answer": answer})


def _random_split(step, enrollment, journey, now):
    bucket = split_bucket(contact_id=enrollment.contact_id, step_key=step["key"])
    floor = 0
    for index, path in enumerate(step["paths"]):
        floor += path["percent"]
        if bucket < floor:
            return Outcome(next=path.get("next") or "", detail={"path": index, "bucket": bucket})
    return Outcome(detail={"bucket": bucket})  # unreachable when the percentages add up to 100


def _render(text: str, contact: Contact, campaign_id: int | None = None) -> str:
    """SMS, webhook and task texts are personalised in the e-mails' sandbox: plain values of
    the contact, its account and the campaign's name, never a model, a setting or a method."""
    from messaging.channels import email as email_channel
    from messaging.email import rendering

    contact_row, account_row = email_channel.contact_values([contact.pk])[contact.pk]
    name = _campaign_name(campaign_id)
    data = email_channel.template_data(contact=contact_row, account=account_row, campaign_name=name)
    return rendering.render(text, data, autoescape=False)


def _campaign_name(campaign_id: int | None) -> str:
    return Campaign.objects.filter(pk=campaign_id).values_list("name", flat=True).first() or ""


def _outbox(step, enrollment, journey, now, *, channel: str, payload: dict) -> Outcome:
    """Write the message once (its key is the step visit's), then deliver it after commit."""
    following = _following(step, enrollment, journey)
    if _dry():
        return Outcome(next=following, detail={"would_send": {"channel": channel, **payload}})
    key = message_key(enrollment_id=enrollment.pk, step_key=step["key"], visit=enrollment.step_visit)
    draft = Draft(
        key=key, channel=channel, contact_id=enrollment.contact_id, payload=payload,
        origin_type=ORIGIN_TYPE, origin_id=enrollment.campaign_id,
    )  # fmt: skip
    message_id = outbox_queue(drafts=[draft], now=now)[key]
    return Outcome(next=following, detail={"message": message_id})


def _send_email(step, enrollment, journey, now):
    """An outbox message naming the template (or carrying the inline subject and body); it is
    personalised in the sandbox when it is delivered, with the contact as it is then."""
    email = Contact.objects.filter(pk=enrollment.contact_id).values_list("email", flat=True).get()
    if step.get("template"):
        payload = {"to": email, "template": step["template"]}
    else:
        payload = {"to": email, "subject": step["subject"], "body": step["body"]}
    if _dry():  # a simulation shows the subject as this contact would read it
        payload = {**payload, "subject": _subject_for(step, _contact(enrollment), enrollment.campaign_id)}
    return _outbox(step, enrollment, journey, now, channel=OutboxMessage.Channel.EMAIL, payload=payload)


def _subject_for(step: dict, contact: Contact, campaign_id: int | None) -> str:
    from messaging.email.rendering import RenderError
    from messaging.models import EmailTemplate
    from messaging.services import email_template_preview

    try:
        if step.get("template"):
            template = EmailTemplate.objects.filter(slug=step["template"]).first()
            if template is None:
                return f"(the e-mail template “{step['template']}” no longer exists)"
            name = _campaign_name(campaign_id)
            return email_template_preview(template=template, contact=contact, campaign_name=name).subject
        return " ".join(_render(step["subject"], contact, campaign_id).split())
    except RenderError as error:
        return f"(cannot be rendered: {error})"


def _send_sms(step, enrollment, journey, now):
    contact = _contact(enrollment)
    if not contact.phone:
        following = _following(step, enrollment, journey)
        return Outcome(next=following, detail={"skipped": "the contact has no phone"})
    payload = {"to": contact.phone, "body": _render(step["body"], contact, enrollment.campaign_id)}
    return _outbox(step, enrollment, journey, now, channel=OutboxMessage.Channel.SMS, payload=payload)


def _rendered(value, contact: Contact, campaign_id: int):
    if isinstance(value, str):
        return _render(value, contact, campaign_id)
    if isinstance(value, dict):
        return {key: _rendered(item, contact, campaign_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_rendered(item, contact, campaign_id) for item in value]
    return value


def _webhook(step, enrollment, journey, now):
    contact = _contact(enrollment)
    body = {
        "contact": {"id": contact.pk, "email": contact.email},
        "campaign": enrollment.campaign_id,
        "step": step["key"],
        **_rendered(step.get("body") or {}, contact, enrollment.campaign_id),
    }
    payload = {"url": step["url"], "body": body}
    return _outbox(step, enrollment, journey, now, channel=OutboxMessage.Channel.WEBHOOK, payload=payload)


def _contact(enrollment) -> Contact:
    return Contact.objects.get(pk=enrollment.contact_id)


def _would(step, enrollment, journey, **change) -> Outcome:
    return Outcome(next=_following(step, enrollment, journey), detail={"would_change": change})


def _add_tag(step, enrollment, journey, now):
    if _dry():
        return _would(step, enrollment, journey, add_tags=step["tags"])
    added = contact_tags_add(contact=_contact(enrollment), names=step["tags"])
    return Outcome(next=_following(step, enrollment, journey), detail={"added": [tag.name for tag in added]})


def _remove_tag(step, enrollment, journey, now):
    if _dry():
        return _would(step, enrollment, journey, remove_tags=step["tags"])
    removed = contact_tags_remove(contact=_contact(enrollment), names=step["tags"])
    return Outcome(next=_following(step, enrollment, journey), detail={"removed": [t.name for t in removed]})


def _set_field(step, enrollment, journey, now):
    if _dry():
        return _would(step, enrollment, journey, **{step["field"]: step["value"]})
    changes = contact_update(contact=_contact(enrollment), data={step["field"]: step["value"]})
    return Outcome(next=_following(step, enrollment, journey), detail={"changes": changes})


def _adjust_score(step, enrollment, journey, now):
    if _dry():
        return _would(step, enrollment, journey, score_by=step["by"])
    contact = Contact.objects.select_for_update().get(pk=enrollment.contact_id)
    changes = contact_update(contact=contact, data={"score": contact.score + step["by"]})
    return Outcome(next=_following(step, enrollment, journey), detail={"changes": changes})


def _set_lifecycle_stage(step, enrollment, journey, now):
    if _dry():
        return _would(step, enrollment, journey, lifecycle_stage=step["stage"])
    changes = contact_update(contact=_contact(enrollment), data={"lifecycle_stage": step["stage"]})
    return Outcome(next=_following(step, enrollment, journey), detail={"changes": changes})


def _exit(step, enrollment, journey, now):
    return Outcome(exit=True)


def _wait_until_time(step, enrollment, journey, now):
    tz = clock.zone(_contact(enrollment).timezone)
    until = clock.next_time_of_day(now, clock.parse_time(step["time"]), tz, step.get("weekdays"))
    return Outcome(wait_until=until, detail={"until": until.isoformat(), "time_zone": str(tz)})


def date_of(path: str, *, enrollment: Enrollment, contact: Contact):
    """The value a date path names: a field of the contact, or of the touchpoint that
    brought the contact into the journey."""
    source, _, rest = path.partition(".")
    if source == "contact":
        record = contact
    else:
        touchpoint_id = enrollment.context.get("touchpoint")
        record = Touchpoint.objects.filter(pk=touchpoint_id).first() if touchpoint_id else None
        if record is None:
            return None
    if rest.startswith(("attributes.", "properties.")):
        bag, _, name = rest.partition(".")
        return (getattr(record, bag) or {}).get(name)
    return getattr(record, rest, None)


def _wait_until_date(step, enrollment, journey, now):
    contact = _contact(enrollment)
    tz = clock.zone(contact.timezone)
    moment = clock.as_moment(date_of(step["date"], enrollment=enrollment, contact=contact), tz)
    following = _following(step, enrollment, journey)
    if moment is None:
        return Outcome(next=following, detail={"skipped": f"{step['date']} has no date"})
    until = clock.shifted(
        moment,
        days=step.get("days", 0),
        hours=step.get("hours", 0),
        at=clock.parse_time(step.get("time")),
        tz=tz,
    )
    if until <= now:
        return Outcome(next=following, detail={"skipped": f"{until.isoformat()} has passed"})
    return Outcome(wait_until=until, detail={"until": until.isoformat()})


def _wait_for_event(step, enrollment, journey, now):
    """Wait until a touchpoint like this arrives (the campaigns' reaction to touchpoints
    wakes the contact at once) or the time runs out."""
    until = now + wait_duration(step)
    return Outcome(wait_until=until, detail={"until": until.isoformat(), "kinds": step["kinds"]})


def has_properties(properties: dict | None, wanted: dict | None) -> bool:
    """A touchpoint's properties include every wanted key with its value."""
    properties = properties or {}
    return all(properties.get(key) == value for key, value in (wanted or {}).items())


def event_matches(step: dict, *, kind: str, properties: dict) -> bool:
    return kind in step["kinds"] and has_properties(properties, step.get("properties"))


def _assign_owner(step, enrollment, journey, now):
    import routing.services as routing

    contact = _contact(enrollment)
    following = _following(step, enrollment, journey)
    if _dry():
        route = routing.owner_route(contact=contact, team=step.get("team"))
        return Outcome(next=following, detail={"would_assign": route.owner_id, "rule": route.rule})
    origin = campaign_origin(Campaign.objects.get(pk=enrollment.campaign_id))
    assignment = routing.lead_route(contact=contact, now=now, team=step.get("team"), origin=origin)
    if assignment is None:
        return Outcome(next=following, detail={"owner": None})
    return Outcome(next=following, detail={"owner": assignment.owner_id, "rule": assignment.rule})


def _create_task(step, enrollment, journey, now):
    import routing.services as routing

    contact = _contact(enrollment)
    following = _following(step, enrollment, journey)
    assignee = step.get("assignee", "owner")
    if assignee == "owner":
        assignee_id = contact.owner_id
    else:
        from django.contrib.auth import get_user_model

        assignee_id = get_user_model().objects.filter(username=assignee).values_list("pk", flat=True).first()
    title = _render(step["title"], contact, enrollment.campaign_id)
    due_at = now + timedelta(hours=step.get("due_hours", 24))
    if _dry():
        would = {"title": title, "assignee": assignee_id, "due_at": due_at.isoformat()}
        return Outcome(next=following, detail={"would_create_task": would})
    task = routing.task_create(
        title=title, contact=contact, assignee_id=assignee_id, due_at=due_at, now=now,
        origin=campaign_origin(Campaign.objects.get(pk=enrollment.campaign_id)),
        key=message_key(enrollment_id=enrollment.pk, step_key=step["key"], visit=enrollment.step_visit),
    )  # fmt: skip
    return Outcome(next=following, detail={"task": task.pk, "assignee": assignee_id})


def _list_step(step, enrollment, journey, now, *, add: bool):
    from segments.models import Segment
    from segments.services import static_members_add, static_members_remove

    following = _following(step, enrollment, journey)
    verb = "added_to" if add else "removed_from"
    if _dry():
        return Outcome(next=following, detail={f"would_be_{verb}": step["list"]})
    segment = Segment.objects.get(slug=step["list"])
    change = static_members_add if add else static_members_remove
    changed = change(segment=segment, contact_ids=[enrollment.contact_id])
    return Outcome(next=following, detail={verb: step["list"], "changed": bool(changed)})


def _add_to_list(step, enrollment, journey, now):
    return _list_step(step, enrollment, journey, now, add=True)


def _remove_from_list(step, enrollment, journey, now):
    return _list_step(step, enrollment, journey, now, add=False)


def _enroll_campaign(step, enrollment, journey, now):
    from campaigns.engine.enroll import NotEnrollable, enroll

    following = _following(step, enrollment, journey)
    target = Campaign.objects.select_related("version").get(pk=step["campaign"])
    if _dry():
        return Outcome(next=following, detail={"would_enroll_in": target.name})
    try:
        created = enroll(
            campaign=target, contact_ids=[enrollment.contact_id], now=now,
            context={"trigger": "campaign", "from_campaign": enrollment.campaign_id},
        )  # fmt: skip
    except NotEnrollable as error:
        return Outcome(next=following, detail={"enrolled": False, "reason": str(error)})
    return Outcome(next=following, detail={"enrolled": bool(created), "campaign": target.pk})


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
    "wait_until_time": _wait_until_time,
    "wait_until_date": _wait_until_date,
    "wait_for_event": _wait_for_event,
    "send_sms": _send_sms,
    "webhook": _webhook,
    "assign_owner": _assign_owner,
    "create_task": _create_task,
    "add_to_list": _add_to_list,
    "remove_from_list": _remove_from_list,
    "enroll_campaign": _enroll_campaign,
}
