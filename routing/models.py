"""Leads for people: teams that answer them, the rules that pick a team, each lead's
assignment with its speed-to-lead clock, and tasks for people.

The tables keep the names they were created with (campaigns_*): the models moved here
without their data moving.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact


class Task(models.Model):
    """Work for a person: a call to make, a lead to answer. A campaign or the speed-to-lead
    clock creates it (algorithmic); a person completes it (manual)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    title = models.CharField(max_length=200)
    # Deleted with the contact by PostgreSQL itself (ON DELETE CASCADE, see the migration).
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    # What created the task (a campaign), by type and id: see ledger.origins.
    origin_type = models.CharField(max_length=32, blank=True, editable=False)
    origin_id = models.BigIntegerField(null=True, blank=True, editable=False)
    # Set to NULL by PostgreSQL when the assignment goes (with its contact).
    assignment = models.ForeignKey(
        "LeadAssignment", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="tasks"
    )
    key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "campaigns_task"
        ordering = ["status", "due_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_idx"),
            models.Index(fields=["origin_id"], name="task_origin_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Team(models.Model):
    """People who answer leads. Leads are shared among its members in turn (round-robin),
    each up to their capacity; a lead nobody answers in time goes to the team's lead."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=64, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="escalations go to this person",
    )  # fmt: skip
    response_minutes = models.PositiveIntegerField(
        "first response within (minutes)", default=60, help_text="the speed-to-lead deadline"
    )

    class Meta:
        db_table = "campaigns_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="open leads at most; empty for no limit"
    )
    active = models.BooleanField(default=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "campaigns_teammember"
        ordering = ["team", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class RoutingRule(models.Model):
    """Which team takes a lead. Rules are tried in order; the first whose countries include
    the contact's (or that names none) wins. The account's owner, when there is one, comes
    before every rule."""

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100)
    countries = models.JSONField(
        default=list, blank=True, help_text='ISO codes, e.g. ["FR", "BE"]; empty: every country'
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rules")
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "campaigns_routingrule"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class LeadAssignment(models.Model):
    """A lead routed to an owner, and its speed-to-lead clock: answered before `due_at`, or
    escalated by beat."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a first response"
        RESPONDED = "responded", "Responded"
        ESCALATED = "escalated", "Escalated"

    # Deleted with the contact by PostgreSQL itself (ON DELETE CASCADE, see the migration).
    contact = models.ForeignKey(Contact, on_delete=models.DO_NOTHING, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    rule = models.CharField(max_length=100, help_text="what decided the owner")
    # What routed the lead (a campaign), by type and id: see ledger.origins.
    origin_type = models.CharField(max_length=32, blank=True, editable=False)
    origin_id = models.BigIntegerField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assigned_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "campaigns_leadassignment"
        ordering = ["-assigned_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status="open"), name="lead_assignment_due_idx"),
            models.Index(fields=["owner", "status"], name="lead_assignment_owner_idx"),
            models.Index(fields=["origin_id"], name="lead_assignment_origin_idx"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} to {self.owner} ({self.status})"
