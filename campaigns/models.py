"""Campaigns (journeys), their published versions, triggers, enrollments and step runs.

All of a journey's state lives here, in PostgreSQL: a waiting contact is a row with a
`next_run_at`, and a step that ran is a StepRun whose unique key forbids a second run. The
messages its steps send are in the outbox (messaging), whose unique key forbids a second send.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from segments.models import Segment


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Archived"

    class Reentry(models.TextChoices):
        ONCE = "once", "Once"
        AFTER_DAYS = "after_days", "Again after N days"
        ALWAYS = "always", "Every time"

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    priority = models.IntegerField(default=0, help_text="higher wins when campaigns compete")
    reentry = models.CharField("re-entry", max_length=12, choices=Reentry.choices, default=Reentry.ONCE)
    reentry_days = models.PositiveIntegerField(
        "re-entry after (days)", null=True, blank=True, help_text="with “again after N days”"
    )
    entry_filter = models.JSONField(
        null=True, blank=True, help_text="only contacts matching these conditions enter"
    )
    goal = models.JSONField(
        null=True, blank=True, help_text="contacts matching these conditions leave at once"
    )
    steps = models.JSONField(
        default=list, blank=True, help_text="the draft journey; publishing freezes it as a version"
    )
    version = models.ForeignKey(
        "CampaignVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="the published version new contacts enter",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reentry="after_days") | Q(reentry_days__isnull=False),
                name="campaign_reentry_days_given",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignVersion(models.Model):
    """A published journey. Never changed after it is written: enrollments point at it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="versions", db_index=False)
    number = models.PositiveIntegerField()
    steps = models.JSONField()
    entry_filter = models.JSONField(null=True, blank=True)
    goal = models.JSONField(null=True, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["campaign", "-number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="campaign_version_unique")]

    def __str__(self) -> str:
        return f"{self.campaign} v{self.number}"


class Trigger(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="triggers")
    # One of the registry's kinds (campaigns.triggers): the services check it, the forms offer them.
    kind = models.CharField(max_length=20)
    touchpoint_kinds = models.JSONField(
        default=list, blank=True, help_text='touchpoint kind keys, e.g. ["webinar_registration"]'
    )
    touchpoint_filter = models.JSONField(
        default=dict, blank=True,
        help_text='properties the touchpoint must have, e.g. {"webinar": "spring-launch"}',
    )  # fmt: skip
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(
        max_length=100, blank=True,
        help_text="a field changed: its path (lifecycle_stage, attributes.plan); a date: the date's path "
        "(attributes.renewal_date, created_at, or with touchpoint kinds occurred_at, properties.event_at)",
    )  # fmt: skip
    value = models.JSONField(null=True, blank=True, help_text="a field changed: the value it changed to")
    intent = models.CharField(max_length=64, blank=True, help_text="an intent detected: its key")
    min_confidence = models.FloatField(null=True, blank=True, help_text="an intent detected: at least")
    offset_days = models.IntegerField(default=0, help_text="a date: days after it (negative: before)")
    time_of_day = models.TimeField(
        null=True, blank=True, help_text="a date: in the contact's time zone; a schedule: in the site's"
    )
    weekdays = models.JSONField(default=list, blank=True, help_text="a schedule: 0 is Monday, 6 is Sunday")
    # Dates and schedules are checked up to this moment: each occurrence enrolls once.
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Membership events are read in order; this is the last one looked at.
    last_event_id = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["segment_entered", "segment_exited", "schedule"])
                | Q(segment__isnull=False),
                name="trigger_segment_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} trigger"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    WAITING = "waiting", "Waiting"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"
    FAILED = "failed", "Failed"


LIVE = [EnrollmentStatus.ACTIVE, EnrollmentStatus.WAITING]


class Enrollment(models.Model):
    """One contact's way through one campaign, from entry to its end."""

    Status = EnrollmentStatus

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="enrollments", db_index=False
    )
    version = models.ForeignKey(CampaignVersion, on_delete=models.PROTECT, related_name="enrollments")
    # Deleted with the contact by PostgreSQL itself (ON DELETE CASCADE, see the migration):
    # deleting contacts in bulk then costs no query per table that refers to them.
    contact = models.ForeignKey(Contact, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    step_key = models.CharField(max_length=64, blank=True, help_text="the step it is at")
    step_visit = models.PositiveIntegerField(default=1, help_text="how many times it has been at this step")
    status = models.CharField(
        max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    next_run_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    context = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(
        db_default=0, help_text="transient failures in a row of the step it is at; tried again with backoff"
    )
    entered_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        constraints = [
            # One live enrollment per contact and campaign, whatever the re-entry policy.
            models.UniqueConstraint(
                fields=["campaign", "contact"], condition=Q(status__in=LIVE), name="enrollment_live_unique"
            ),
        ]
        indexes = [
            # The tick's queue: only live rows, in order of when they are due.
            models.Index(fields=["next_run_at"], condition=Q(status__in=LIVE), name="enrollment_due_idx"),
            models.Index(fields=["campaign", "contact", "-entered_at"], name="enrollment_campaign_idx"),
            models.Index(fields=["contact"], name="enrollment_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} in {self.campaign_id} at {self.step_key or '-'} ({self.status})"


class StepRun(models.Model):
    """A step executed for an enrollment. Its key (enrollment, step, visit) is unique, so a
    duplicated task can never run the same step twice."""

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        WAITING = "waiting", "Waiting"
        FAILED = "failed", "Failed"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="runs", db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    step_key = models.CharField(max_length=64)
    visit = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.DONE)
    detail = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["enrollment", "started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "step_key", "visit"], name="step_run_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "step_key"], name="step_run_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.step_key} #{self.visit} of enrollment {self.enrollment_id}"
