"""A campaign run against some contacts without any effect: which path each would take,
when, and which messages it would be sent.

Each step decides with its own code in dry-run mode (`steps.run(..., dry_run=True)`),
the channel limits hold sends as they would (counting the messages simulated before),
waits move a simulated clock instead of waiting, and a wait for an event takes its
timeout (`no`) path, since nothing happens in a simulation. The whole run sits in a
transaction that is rolled back, so even a mistake cannot leave a trace.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from django.db import connection, transaction

from campaigns.engine import running
from campaigns.engine.advance import MAX_STEPS_AT_ONCE
from campaigns.engine.journey import Journey, validate
from campaigns.models import Campaign, CampaignVersion, Enrollment
from campaigns.triggers import trigger_kind
from contacts.models import Contact, Touchpoint
from segments.evaluation import Known, holds_for, matching_ids_sql, parsed


@dataclass
class Visit:
    step: str
    type: str
    at: str
    detail: dict
    held: str = ""


@dataclass
class Path:
    contact: int
    email: str
    end: str = ""
    steps: list[Visit] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)


def sample_ids(*, campaign: Campaign, size: int, now: datetime, draft: bool = False) -> list[int]:
    """A random sample of the contacts who may enter (those the entry filter lets in)."""
    entry_filter = (
        campaign.entry_filter if draft or not campaign.version_id else campaign.version.entry_filter
    )
    if entry_filter:
        sql, params = matching_ids_sql(parsed(entry_filter), now=now)
    else:
        sql, params = "SELECT c.id FROM contacts_contact c", []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM ({sql}) candidate ORDER BY random() LIMIT %s", [*params, size])  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def simulate(*, campaign: Campaign, contact_ids: list[int], now: datetime, draft: bool = False) -> dict:
    """Each contact's path through the published journey (or, with `draft`, the steps as
    they are being edited), and a summary: how each ended, how many passed each step, the
    messages by channel."""
    known = Known.load()
    if draft or not campaign.version_id:
        journey, entry_filter, goal = (
            validate(campaign.steps, known=known),
            campaign.entry_filter,
            campaign.goal,
        )
        version = None
    else:
        version = campaign.version
        journey, entry_filter, goal = Journey(steps=tuple(version.steps)), version.entry_filter, version.goal
    contacts = list(Contact.objects.filter(pk__in=contact_ids).order_by("pk").values_list("pk", "email"))
    touchpoints = _trigger_touchpoints(campaign, [pk for pk, _ in contacts], now)
    with transaction.atomic():
        plan = _Plan(campaign, version, journey, entry_filter, goal, known)
        paths = [
            _walk(plan, contact_id, email, touchpoints.get(contact_id), now) for contact_id, email in contacts
        ]
        transaction.set_rollback(True)
    ends: dict[str, int] = {}
    passed: dict[str, int] = {}
    channels: dict[str, int] = {}
    for path in paths:
        ends[path.end] = ends.get(path.end, 0) + 1
        for key in {visit.step for visit in path.steps}:
            passed[key] = passed.get(key, 0) + 1
        for message in path.messages:
            channels[message["channel"]] = channels.get(message["channel"], 0) + 1
    return {
        "campaign": campaign.pk,
        "version": None if version is None else version.number,
        "contacts": len(paths),
        "ends": ends,
        "steps": [{"key": step["key"], "type": step["type"], "contacts": passed.get(step["key"], 0)}
                  for step in journey.steps],
        "messages": channels,
        "paths": [asdict(path) for path in paths],
    }  # fmt: skip


def _trigger_touchpoints(campaign: Campaign, contact_ids: list[int], now: datetime) -> dict[int, int]:
    """For a campaign started by touchpoints, each contact's latest such touchpoint: what
    its journey's dates (`touchpoint.properties.event_at`) are read from."""
    kinds = set()
    for trigger in campaign.triggers.all():
        registered = trigger_kind(trigger.kind)
        kinds.update(registered.touchpoint_kinds(trigger) if registered is not None else [])
    if not kinds:
        return {}
    latest: dict[int, int] = {}
    rows = Touchpoint.objects.filter(contact_id__in=contact_ids, kind_id__in=kinds, occurred_at__lte=now)
    for contact_id, touchpoint_id in rows.order_by("occurred_at", "pk").values_list("contact_id", "pk"):
        latest[contact_id] = touchpoint_id
    return latest


def _message(step: dict, at: datetime, payload: dict) -> dict:
    """What would be sent, with `to` (an address, a number or a URL) and `what` (its subject,
    its text, or the body posted) for people to read."""
    channel = str(payload["channel"])
    to = payload.get("to") or payload.get("url", "")
    what = payload.get("subject") or payload.get("body", "")
    return {"step": step["key"], "at": _iso(at), **payload, "channel": channel, "to": to, "what": what}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class _Plan:
    campaign: Campaign
    version: CampaignVersion | None
    journey: Journey
    entry_filter: dict | None
    goal: dict | None
    known: Known


def _walk(plan: _Plan, contact_id: int, email: str, touchpoint: int | None, now: datetime) -> Path:
    journey, goal, known = plan.journey, plan.goal, plan.known
    path = Path(contact=contact_id, email=email)
    if plan.entry_filter and not holds_for(plan.entry_filter, contact_id=contact_id, now=now, known=known):
        path.end = "kept out by the entry filter"
        return path
    context = {"trigger": "simulation"} | ({"touchpoint": touchpoint} if touchpoint else {})
    enrollment = Enrollment(
        campaign=plan.campaign,
        version=plan.version,
        contact_id=contact_id,
        step_key=journey.first,
        context=context,
    )
    visits: dict[str, int] = {}
    sent: dict[str, list[tuple[int, datetime]]] = {}  # the sends simulated so far, by channel
    clock = now
    while enrollment.step_key:
        if len(path.steps) >= MAX_STEPS_AT_ONCE:
            path.end = f"failed: more than {MAX_STEPS_AT_ONCE} steps, is there a loop?"
            return path
        if goal and holds_for(goal, contact_id=contact_id, now=clock, known=known):
            path.end = "exited: goal reached"
            return path
        step = journey.step(enrollment.step_key)
        if step is None:
            path.end = f"failed: no step {enrollment.step_key!r}"
            return path
        visits[step["key"]] = enrollment.step_visit = visits.get(step["key"], 0) + 1
        also = sent.get(running.sending_channel(step) or "", [])
        hold = running.holds(step, contact_ids=[contact_id], now=clock, also=also).get(contact_id)
        if hold is not None:
            clock = hold.until
        try:
            outcome = running.step_run(
                step, enrollment=enrollment, journey=journey, now=clock, known=known, dry_run=True
            )
        except Exception as error:  # shown to the marketer as the step's failure
            path.steps.append(Visit(step["key"], step["type"], _iso(clock), {"error": str(error)}))
            path.end = f"failed at {step['key']}: {error}"
            return path
        path.steps.append(
            Visit(step["key"], step["type"], _iso(clock), outcome.detail, hold.reason if hold else "")
        )
        if "would_send" in outcome.detail:
            path.messages.append(_message(step, clock, outcome.detail["would_send"]))
            # Counted by the frequency cap further on, as a real message would be.
            sent.setdefault(outcome.detail["would_send"]["channel"], []).append((contact_id, clock))
        if outcome.exit:
            path.end = "exited at an exit step"
            return path
        if outcome.wait_until is not None:
            clock = max(clock, outcome.wait_until)
            enrollment.step_key = running.resume(enrollment=enrollment, journey=journey)
        else:
            enrollment.step_key = outcome.next
        enrollment.step_visit = visits.get(enrollment.step_key, 0) + 1
    path.end = "completed"
    return path
