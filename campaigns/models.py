"""Campaigns (journeys), their published versions, triggers, enrollments, step runs and
the outbox of messages.

All of a journey's state lives here, in PostgreSQL: a waiting contact is a row with a
`next_run_at`, a step that ran is a StepRun whose unique key forbids a second run, and a
message is an outbox row whose unique key forbids a second send.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
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
    class Kind(models.TextChoices):
        TOUCHPOINT = "touchpoint", "Touchpoint of a kind"
        SEGMENT_ENTERED = "segment_entered", "Entered a segment"
        SEGMENT_EXITED = "segment_exited", "Left a segment"
        MANUAL = "manual", "By hand or by the API"
        FIELD_CHANGED = "field_changed", "A field changed"
        SCORE_CROSSED = "score_crossed", "Lead score reached the MQL threshold"
        INTENT_DETECTED = "intent_detected", "An intent was detected"
        DATE = "date", "Days before or after a date"
        SCHEDULE = "schedule", "On a schedule, a segment's members"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="triggers")
    kind = models.CharField(max_length=20, choices=Kind.choices)
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
        if self.kind == self.Kind.TOUCHPOINT:
            return f"touchpoint {', '.join(self.touchpoint_kinds)}"
        if self.kind == self.Kind.FIELD_CHANGED:
            return f"{self.field} changed" + ("" if self.value is None else f" to {self.value}")
        if self.kind == self.Kind.INTENT_DETECTED:
            return f"intent {self.intent} detected"
        if self.kind == self.Kind.DATE:
            return f"{self.offset_days:+d} days from {self.field}"
        if self.segment_id:
            return f"{self.get_kind_display().lower()} {self.segment}"
        return self.get_kind_display()


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


class OutboxMessage(models.Model):
    """A message to send, written before anything leaves the system."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SUPPRESSED = "suppressed", "Suppressed"
        FAILED = "failed", "Failed"

    key = models.CharField(max_length=64, unique=True, help_text="hash of (enrollment, step, visit)")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    campaign = models.ForeignKey(Campaign, null=True, on_delete=models.SET_NULL, related_name="+")
    enrollment = models.ForeignKey(Enrollment, null=True, on_delete=models.SET_NULL, related_name="messages")
    contact = models.ForeignKey(Contact, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # SMS and webhooks retry from the database: a failed attempt sets the next one here
    # (exponential backoff), and the outbox tick hands due messages to workers again.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="outbox_pending_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending", next_attempt_at__isnull=False),
                name="outbox_retry_due_idx",
            ),
            models.Index(fields=["contact", "-created_at"], name="outbox_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to contact {self.contact_id} ({self.status})"


class EmailLayout(models.Model):
    """The frame every e-mail of a brand shares: header, footer, the unsubscribe line. The
    template's HTML goes where the layout writes `{{ content }}`."""

    name = models.CharField(max_length=200, unique=True)
    html = models.TextField(
        "HTML", help_text="Must contain {{ content }}; may use {{ preheader }}, {{ unsubscribe_url }}, "
        "{{ preferences_url }}, {{ contact.* }}, {{ account.* }}, {{ campaign.name }}.",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailTemplate(models.Model):
    """An e-mail a marketer writes once and campaigns send to many, personalised at delivery."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True, help_text="how send_email steps name it")
    subject = models.CharField(max_length=300)
    preheader = models.CharField(
        max_length=300, blank=True, help_text="the line inboxes show after the subject"
    )
    html = models.TextField("HTML", blank=True)
    text = models.TextField("plain text", blank=True, help_text="left empty, it is made from the HTML")
    layout = models.ForeignKey(
        EmailLayout, null=True, blank=True, on_delete=models.PROTECT, related_name="templates",
        help_text="the shared frame; none: the built-in one",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(html="") | ~Q(text=""), name="email_template_has_a_body"),
        ]

    def __str__(self) -> str:
        return self.name


class DeliveryAttempt(models.Model):
    """One try at handing a message to its provider or endpoint: what came back, how long it
    took, what went wrong. The delivery log people read in the admin."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=100, blank=True, help_text="the provider's id of the message")

    class Meta:
        ordering = ["message", "number"]
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="delivery_attempt_unique")]

    def __str__(self) -> str:
        return f"attempt {self.number} of message {self.message_id}: {self.status_code or self.error[:40]}"


class Audience(models.Model):
    """A segment kept in step with a place outside: an ad platform (hashed e-mails), a
    mailing house (postal addresses) or any endpoint (a webhook)."""

    class Kind(models.TextChoices):
        ADS_CSV = "ads_csv", "Ad platform CSV (SHA-256 of e-mails)"
        POSTAL_CSV = "postal_csv", "Direct mail CSV (postal addresses)"
        WEBHOOK = "webhook", "Webhook (hashed e-mails as JSON)"

    name = models.CharField(max_length=200)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    url = models.URLField(blank=True, help_text="for a webhook audience: where the members are posted")
    secret = models.CharField(
        max_length=200, blank=True, help_text="for a webhook audience: the key its requests are signed with"
    )
    every_hours = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="sync on a schedule, every N hours; empty: only on demand",
    )  # fmt: skip
    next_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="webhook") | ~Q(url=""), name="audience_webhook_url_given"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_sync_at"], condition=Q(every_hours__isnull=False), name="audience_due_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name


class AudienceSync(models.Model):
    """One sync of an audience: how many went out, where the file is, how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="syncs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    members = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(
        default=0, help_text="in the segment but suppressed or unsubscribed"
    )
    file = models.FileField(upload_to="audiences/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    actor_name = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.audience} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class SendingRule(models.Model):
    """Limits every campaign obeys on a channel: a frequency cap and quiet hours, both read
    in the contact's time zone. A step held back by them waits; nothing is dropped."""

    channel = models.CharField(max_length=10, choices=OutboxMessage.Channel.choices, unique=True)
    cap_messages = models.PositiveIntegerField(
        "at most (messages)", null=True, blank=True, help_text="per contact, across all campaigns"
    )
    cap_days = models.PositiveIntegerField("per (days)", default=1)
    quiet_start = models.TimeField(null=True, blank=True, help_text="no sends from, e.g. 21:00")
    quiet_end = models.TimeField(null=True, blank=True, help_text="until, e.g. 08:00")

    class Meta:
        ordering = ["channel"]
        constraints = [
            models.CheckConstraint(condition=Q(cap_days__gte=1), name="sending_rule_cap_days_positive"),
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="sending_rule_quiet_hours_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} limits"


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
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Set to NULL by PostgreSQL when the assignment goes (with its contact).
    assignment = models.ForeignKey(
        "LeadAssignment", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="tasks"
    )
    key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["status", "due_at", "id"]
        indexes = [models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_idx")]

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
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assigned_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status="open"), name="lead_assignment_due_idx"),
            models.Index(fields=["owner", "status"], name="lead_assignment_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} to {self.owner} ({self.status})"
