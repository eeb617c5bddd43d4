from django.db import models
from django.utils import timezone

from ledger.context import ALGORITHMIC, MANUAL


class ActorKind(models.TextChoices):
    ALGORITHMIC = ALGORITHMIC, "Algorithmic"
    MANUAL = MANUAL, "Manual"


class Category(models.TextChoices):
    DATA_CAPTURE = "data_capture", "Data capture"
    IMPORT = "import", "Import"
    ENRICHMENT = "enrichment", "Enrichment"
    SCORING = "scoring", "Scoring"
    ROUTING = "routing", "Routing"
    SEGMENTATION = "segmentation", "Segmentation"
    TAGGING = "tagging", "Tagging"
    FIELD_UPDATE = "field_update", "Field update"
    CONSENT = "consent", "Consent"
    EMAIL = "email", "Nurturing e-mail"
    PERSONALISATION = "personalisation", "Personalisation"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "Webhook"
    ADS = "ads", "Ads and audiences"
    DIRECT_MAIL = "direct_mail", "Direct mail"
    DATA_HYGIENE = "data_hygiene", "Data hygiene"
    TASK = "task", "Tasks"
    CAMPAIGN_MANAGEMENT = "campaign_management", "Campaign management"


class Action(models.Model):
    """One effect on marketing data, and who or what caused it.

    Rows are only ever inserted. contact_id is a plain integer, not a foreign key:
    the ledger sits below every other app and must outlive the rows it describes
    (a deleted contact's history still counts in the ratio).
    """

    occurred_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_type = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=Category.choices)
    verb = models.CharField(max_length=64)
    contact_id = models.BigIntegerField(null=True, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=20, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # the ratio over a period, and its breakdowns
            models.Index(fields=["occurred_at", "actor_kind"], name="action_time_kind_idx"),
            # a contact's timeline
            models.Index(fields=["contact_id", "-occurred_at"], name="action_contact_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(actor_kind__in=[ALGORITHMIC, MANUAL]), name="action_actor_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_actor_kind_display()} {self.verb} by {self.actor_name}"


class Integration(models.Model):
    """A system that works on marketing data through the API: what it does is algorithmic."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key an integration authenticates with. Only a hash is stored: the key itself is
    shown once, when it is created."""

    READ, WRITE = "read", "write"
    SCOPES = (READ, WRITE)

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=16, help_text="the start of the key, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text='["read"], ["write"] or both')
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.CharField(max_length=200, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "+".join(self.scopes)
        return f"{self.prefix}… ({self.integration}, {state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
