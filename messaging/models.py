"""The outbox and what it sends: every message to a contact on any channel is a row here
before anything leaves the system, with the log of each attempt at delivering it; the
e-mail templates and layouts messages are made from; the limits every channel obeys; and
audiences, segments kept in step with places outside.

The tables keep the names they were created with (campaigns_*): the models moved here
without their data moving.
"""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from segments.models import Segment


class OutboxMessage(models.Model):
    """A message to send, written before anything leaves the system.

    pending -> sending (claimed by a worker, with a lease) -> sent, or back to pending with
    the time of its next attempt, or failed; suppressed when the gate holds it back at send
    time; unknown when its worker was lost while the provider may have been taking it (a
    person decides: send again, or mark as sent). See messaging.outbox.
    """

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
        UNKNOWN = "unknown", "Unknown: may have been sent"

    key = models.CharField(max_length=64, unique=True, help_text="hash of (enrollment, step, visit)")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # What wrote the message (a campaign), by type and id: see ledger.origins.
    origin_type = models.CharField(max_length=32, blank=True)
    origin_id = models.BigIntegerField(null=True, blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Retries are kept here, not in the broker: a failed attempt sets the next one
    # (exponential backoff), and the outbox tick hands due messages to workers again.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim on the message while it sends it: the batch it was claimed with, and
    # until when the claim holds (the worker renews it as it goes). An expired claim means
    # the worker was lost, and the outbox tick takes its messages up again.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "campaigns_outboxmessage"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="outbox_pending_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending", next_attempt_at__isnull=False),
                name="outbox_retry_due_idx",
            ),
            models.Index(fields=["contact", "-created_at"], name="outbox_contact_idx"),
            models.Index(fields=["origin_id"], name="outbox_origin_idx"),
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="outbox_sending_idx"),
            models.Index(fields=["created_at"], condition=Q(status="unknown"), name="outbox_unknown_idx"),
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
        db_table = "campaigns_emaillayout"
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
        db_table = "campaigns_emailtemplate"
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
        db_table = "campaigns_deliveryattempt"
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
        db_table = "campaigns_audience"
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
        db_table = "campaigns_audiencesync"
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
        db_table = "campaigns_sendingrule"
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
