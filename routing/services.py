"""Routing leads to owners, the speed-to-lead clock, and tasks for people.

Who gets a lead, in order: the owner of the contact's account; else the team of the first
routing rule whose countries include the contact's (a rule without countries takes
everyone), shared among the team's active members in turn (the one assigned longest ago
first), skipping those at their capacity of open leads. A routed lead starts a clock: its
owner has a task due at the team's response deadline; an answer (the task completed)
stops it, and beat escalates what is still open when it runs out to the team's lead.

Routing is algorithmic work (category routing) of whoever routes: a campaign's step, or
beat for escalations. Completing a task is a person's (manual) work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Func, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from contacts.models import Contact
from contacts.services import contact_update
from ledger.context import Actor, acting_as
from ledger.models import Category
from ledger.origins import Origin
from ledger.services import ActionEntry, action_record, action_record_many
from routing.models import LeadAssignment, RoutingRule, Task, Team, TeamMember

DEFAULT_RESPONSE = timedelta(hours=1)  # an account owner outside every team


@dataclass(frozen=True)
class Route:
    owner_id: int | None
    team: Team | None
    rule: str  # what decided, in words

    @property
    def found(self) -> bool:
        return self.owner_id is not None


def owner_route(*, contact: Contact, team: str | None = None, lock: bool = False) -> Route:
    """Who would get this lead now. With `lock`, the chosen team's members stay locked until
    the transaction ends, so two leads routed at once go to two people in turn."""
    account_owner = contact.account.owner_id if contact.account_id else None
    if account_owner is not None:
        membership = TeamMember.objects.filter(user_id=account_owner, active=True).select_related("team")
        if team:
            membership = membership.filter(team__slug=team)
        first = membership.order_by("id").first()
        return Route(owner_id=account_owner, team=first.team if first else None, rule="account owner")
    rules = RoutingRule.objects.filter(active=True).select_related("team").order_by("position", "id")
    if team:
        rules = rules.filter(team__slug=team)
    country = str(contact.country or "")
    for rule in rules:
        if rule.countries and country not in rule.countries:
            continue
        owner_id = _round_robin(rule.team, lock=lock)
        if owner_id is not None:
            return Route(owner_id=owner_id, team=rule.team, rule=f"rule “{rule.name}”, round-robin")
        return Route(owner_id=None, team=rule.team, rule=f"rule “{rule.name}”: every member is at capacity")
    return Route(owner_id=None, team=None, rule="no routing rule takes this contact")


def _round_robin(team: Team, *, lock: bool) -> int | None:
    members = TeamMember.objects.filter(team=team, active=True)
    if lock:
        # Locked in id order (the order every router takes them in), so routers never deadlock.
        list(members.order_by("id").select_for_update().values_list("id", flat=True))
    open_leads = (
        LeadAssignment.objects.filter(owner_id=OuterRef("user_id"), status=LeadAssignment.Status.OPEN)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    candidates = (
        members.annotate(open_leads=Coalesce(Subquery(open_leads), 0))
        .filter(Q(capacity__isnull=True) | Q(open_leads__lt=F("capacity")))
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
    )
    chosen = candidates.values_list("pk", "user_id").first()
    if chosen is None:
        return None
    if lock:
        # The database's own clock, which moves within a transaction: leads routed in one
        # batch (one `now`) still go round in turn.
        TeamMember.objects.filter(pk=chosen[0]).update(last_assigned_at=Func(function="clock_timestamp"))
    return chosen[1]


def _origin_fields(origin: Origin | None) -> dict:
    return {"origin_type": origin.type, "origin_id": origin.id} if origin is not None else {}


def lead_route(
    *, contact: Contact, now: datetime, team: str | None = None, origin: Origin | None = None
) -> LeadAssignment | None:
    """Give the contact an owner by the routing rules and start the speed-to-lead clock.
    In the caller's transaction and actor. None when nobody can take the lead."""
    route = owner_route(contact=contact, team=team, lock=True)
    if not route.found:
        action_record(
            category=Category.ROUTING, verb="lead.unrouted", contact_id=contact.pk, origin=origin,
            details={"reason": route.rule}, occurred_at=now,
        )  # fmt: skip
        return None
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.get(pk=route.owner_id)
    if contact.owner_id != owner.pk:
        contact_update(contact=contact, data={"owner": owner})  # a routing action of its own
    response = timedelta(minutes=route.team.response_minutes) if route.team else DEFAULT_RESPONSE
    assignment = LeadAssignment.objects.create(
        contact=contact, owner=owner, team=route.team, rule=route.rule, **_origin_fields(origin),
        assigned_at=now, due_at=now + response,
    )  # fmt: skip
    Task.objects.create(
        title=f"First response to {contact}"[:200], contact=contact, assignee=owner, due_at=assignment.due_at,
        assignment=assignment, created_at=now, **_origin_fields(origin),
    )  # fmt: skip
    action_record(
        category=Category.ROUTING, verb="lead.routed", contact_id=contact.pk, origin=origin,
        details={
            "owner": owner.get_username(), "rule": route.rule,
            "team": route.team.slug if route.team else None, "due_at": assignment.due_at.isoformat(),
        },
        occurred_at=now,
    )  # fmt: skip
    return assignment


def task_create(
    *,
    title: str,
    contact: Contact | None,
    assignee_id: int | None,
    due_at: datetime | None,
    now: datetime,
    origin: Origin | None = None,
    key: str | None = None,
) -> Task:
    """A task for a person; with a key, the same key gives the same task (a step run twice)."""
    defaults = {
        "title": title[:200], "contact": contact, "assignee_id": assignee_id, "due_at": due_at,
        "created_at": now, **_origin_fields(origin),
    }  # fmt: skip
    if key:
        task, created = Task.objects.get_or_create(key=key, defaults=defaults)
    else:
        task, created = Task.objects.create(**defaults), True
    if created:
        action_record(
            category=Category.TASK, verb="task.created", contact_id=contact.pk if contact else None, obj=task,
            details={"title": task.title, "assignee": assignee_id}, occurred_at=now,
        )  # fmt: skip
    return task


@transaction.atomic
def task_complete(*, task: Task, now: datetime | None = None) -> Task:
    """A person did the task (in the actor's name). A first-response task stops its lead's
    clock."""
    now = now or timezone.now()
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status == Task.Status.DONE:
        return task
    task.status, task.completed_at = Task.Status.DONE, now
    task.save(update_fields=["status", "completed_at"])
    details = {"title": task.title}
    if task.assignment_id:
        open_lead = LeadAssignment.objects.filter(pk=task.assignment_id, status=LeadAssignment.Status.OPEN)
        answered = open_lead.update(status=LeadAssignment.Status.RESPONDED, responded_at=now)
        details["lead_answered_in_time"] = bool(answered)
    action_record(
        category=Category.TASK, verb="task.completed", contact_id=task.contact_id, obj=task, details=details,
        occurred_at=now,
    )  # fmt: skip
    return task


ESCALATE_BATCH = 1_000


def leads_escalate(*, now: datetime) -> int:
    """Leads nobody answered by their deadline: each becomes a task for its team's lead
    (or, with no team lead, an unassigned task everyone sees). Set-based, safe to repeat:
    a lead is escalated once."""
    with transaction.atomic(), acting_as(Actor.for_task("campaigns.leads_escalate")):
        overdue = list(
            LeadAssignment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=LeadAssignment.Status.OPEN, due_at__lte=now)
            .select_related("team", "contact", "owner")
            .order_by("due_at")[:ESCALATE_BATCH]
        )
        if not overdue:
            return 0
        LeadAssignment.objects.filter(pk__in=[row.pk for row in overdue]).update(
            status=LeadAssignment.Status.ESCALATED, escalated_at=now
        )
        Task.objects.bulk_create(
            [
                Task(
                    title=f"Unanswered lead: {row.contact} (owner {row.owner or 'none'})"[:200],
                    contact=row.contact,
                    assignee_id=row.team.lead_id if row.team else None,
                    due_at=now,
                    origin_type=row.origin_type,
                    origin_id=row.origin_id,
                    assignment=row,
                    created_at=now,
                )
                for row in overdue
            ]
        )
        action_record_many(
            entries=[
                ActionEntry(
                    category=Category.ROUTING,
                    verb="lead.escalated",
                    contact_id=row.contact_id,
                    details={
                        "owner": row.owner.get_username() if row.owner else None,
                        "team": row.team.slug if row.team else None,
                        "due_at": row.due_at.isoformat(),
                    },
                    occurred_at=now,
                )
                for row in overdue
            ]
        )
    return len(overdue)
