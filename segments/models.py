from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from contacts.models import Contact


class Segment(models.Model):
    """A group of contacts: dynamic ones are defined by conditions (shared/spec/conditions.md)
    and re-form as contacts change; static ones are lists kept by hand, import or API."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic (from conditions)"
        STATIC = "static", "Static list"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    conditions = models.JSONField(default=dict, blank=True)
    # What the conditions read, kept at save time so that a change to a contact re-evaluates
    # only the segments it can affect (see segments.dependencies).
    reads_fields = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    reads_kinds = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    reads_tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    reads_intents = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    reads_any_touchpoint = models.BooleanField(default=False)
    reads_account_touchpoints = models.BooleanField(default=False)
    uses_time = models.BooleanField(
        default=False, help_text="conditions relative to now, rebuilt on a schedule"
    )
    uses = models.ManyToManyField("self", symmetrical=False, related_name="used_by", blank=True)
    size = models.IntegerField(default=0)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["uses_time"], name="segment_uses_time_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """Who is in a segment now, and since when."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False)
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "contact"], name="membership_unique")]
        indexes = [models.Index(fields=["contact"], name="membership_contact_idx")]

    def __str__(self) -> str:
        return f"contact {self.contact_id} in segment {self.segment_id}"


class MembershipEvent(models.Model):
    """A contact entered or left a segment: what campaigns trigger on, and the history."""

    class Kind(models.TextChoices):
        ENTERED = "entered", "Entered"
        EXITED = "exited", "Exited"

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="events", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["segment", "-occurred_at"], name="segment_event_time_idx"),
            models.Index(fields=["contact", "-occurred_at"], name="segment_event_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} {self.kind} segment {self.segment_id}"


class SegmentSize(models.Model):
    """The size after each change, for the size-over-time chart."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="sizes", db_index=False)
    measured_at = models.DateTimeField(default=timezone.now)
    size = models.IntegerField()

    class Meta:
        ordering = ["measured_at"]
        indexes = [models.Index(fields=["segment", "measured_at"], name="segment_size_time_idx")]

    def __str__(self) -> str:
        return f"{self.size} at {self.measured_at:%Y-%m-%d %H:%M}"
