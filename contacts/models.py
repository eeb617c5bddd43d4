from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils.timezone import now
from django_countries.fields import CountryField

from contacts.normalize import normalize_domain, normalize_email, normalize_phone, normalize_timezone

ATTRIBUTES_MUST_BE_OBJECT = 'attributes must be a JSON object, e.g. {"plan": "pro"}'


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing-qualified lead"
    SQL = "sql", "Sales-qualified lead"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    EVANGELIST = "evangelist", "Evangelist"
    OTHER = "other", "Other"


class ConsentStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class ConsentChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    SOCIAL = "social", "Social"
    ADS = "ads", "Ads"
    EVENTS = "events", "Events and webinars"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    SEARCH = "search", "Search"
    COMMERCE = "commerce", "Commerce"
    DIRECT_MAIL = "direct_mail", "Direct mail"
    OTHER = "other", "Other"


def _trigram(field: str, name: str) -> GinIndex:
    # Admin search uses icontains, which PostgreSQL compiles to UPPER(col) LIKE UPPER('%x%'):
    # a trigram index on UPPER(col) answers it without scanning the table.
    return GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name)


class Account(models.Model):
    name = models.CharField(max_length=255)
    domain = models.CharField(
        max_length=255, blank=True, help_text="The company's e-mail domain, e.g. acme.com; unique when set."
    )
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    country = CountryField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["domain"], condition=~Q(domain=""), name="account_domain_unique"),
            models.CheckConstraint(condition=Q(domain=Lower("domain")), name="account_domain_lowercase"),
        ]
        indexes = [_trigram("name", "account_name_trgm")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        try:
            self.domain = normalize_domain(self.domain)
        except ValidationError as error:
            errors["domain"] = error
        if not isinstance(self.attributes, dict):
            errors["attributes"] = ValidationError(ATTRIBUTES_MUST_BE_OBJECT, code="invalid")
        if errors:
            raise ValidationError(errors)


class Tag(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person. The e-mail is stored normalised (trimmed, lower-case), which is what
    makes it unique."""

    # A CharField: the address is checked by normalize_email, whose message says what is wrong.
    # Unique by a constraint rather than unique=True, which would add a second index on the
    # address (for LIKE 'x%') that nothing uses and that costs a third of a bulk import.
    email = models.CharField("e-mail", max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +33612345678")
    job_title = models.CharField(max_length=150, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = CountryField(blank=True)
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA name, e.g. Europe/Paris")
    lifecycle_stage = models.CharField(max_length=20, choices=LifecycleStage.choices, blank=True)
    source = models.CharField(max_length=100, blank=True)
    score = models.IntegerField(default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    consent_email = models.CharField(
        "e-mail consent", max_length=12, choices=ConsentStatus.choices, blank=True
    )
    consent_sms = models.CharField("SMS consent", max_length=12, choices=ConsentStatus.choices, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts", blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # With Django's own message, a duplicate is reported on the e-mail field.
            models.UniqueConstraint(fields=["email"], name="contact_email_unique"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="contact_email_lowercase"),
        ]
        indexes = [
            models.Index(fields=["updated_at"], name="contact_updated_idx"),
            models.Index(fields=["lifecycle_stage"], name="contact_stage_idx"),
            models.Index(fields=["country"], name="contact_country_idx"),
            _trigram("email", "contact_email_trgm"),
            _trigram("first_name", "contact_first_name_trgm"),
            _trigram("last_name", "contact_last_name_trgm"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} <{self.email}>" if name else self.email

    def clean(self) -> None:
        errors = {}
        for field, normalise in (
            ("email", normalize_email),
            ("phone", lambda value: normalize_phone(value, country=str(self.country or ""))),
            ("timezone", normalize_timezone),
        ):
            try:
                setattr(self, field, normalise(getattr(self, field)))
            except ValidationError as error:
                errors[field] = error
        if not isinstance(self.attributes, dict):
            errors["attributes"] = ValidationError(ATTRIBUTES_MUST_BE_OBJECT, code="invalid")
        if errors:
            raise ValidationError(errors)

    def consent_for(self, channel: str) -> str:
        return getattr(self, f"consent_{channel}")


class ContactTag(models.Model):
    # No index of their own: the unique (contact, tag) and the (tag, contact) index serve
    # both directions, and every index is paid for on each row an import writes.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, db_index=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False)
    added_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "tag"], name="contact_tag_unique")]
        indexes = [models.Index(fields=["tag", "contact"], name="contacttag_tag_contact_idx")]

    def __str__(self) -> str:
        return f"{self.tag_id} on {self.contact_id}"


class ConsentChange(models.Model):
    """The evidence behind a contact's consent: what changed, when, by whom, from where.
    GDPR Art. 7 asks that consent be demonstrable; this is how."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_changes")
    channel = models.CharField(max_length=8, choices=ConsentChannel.choices)
    status = models.CharField(max_length=12, choices=ConsentStatus.choices, blank=True)
    previous_status = models.CharField(max_length=12, blank=True)
    changed_at = models.DateTimeField(default=now)
    actor_kind = models.CharField(max_length=12)
    actor_name = models.CharField(max_length=200)
    source = models.CharField(
        max_length=200, blank=True, help_text="e.g. signup form on /webinar, CSV import"
    )
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["contact", "channel", "-changed_at"], name="consent_contact_idx")]

    def __str__(self) -> str:
        return f"{self.channel}: {self.previous_status or 'unset'} → {self.status or 'unset'}"


class TouchpointKind(models.Model):
    """A known kind of interaction. The key is what integrations send ("page_view")."""

    key = models.SlugField(max_length=64, primary_key=True)
    name = models.CharField(max_length=100)
    default_channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.OTHER)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class Touchpoint(models.Model):
    # The timeline index (contact, occurred_at) and the (kind, occurred_at) index also
    # serve the foreign keys, so these get no single-column index of their own.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="touchpoints", db_index=False)
    kind = models.ForeignKey(TouchpointKind, on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    occurred_at = models.DateTimeField(default=now)
    source = models.CharField(max_length=100, blank=True)
    text = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    intent = models.CharField(max_length=64, blank=True, help_text="the intent detected in this touchpoint")
    intent_confidence = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="touchpoint_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "-occurred_at"], name="touchpoint_timeline_idx"),
            models.Index(fields=["kind", "occurred_at"], name="touchpoint_kind_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def summary(self) -> str:
        """The text, or else the first few properties: what a person reads in a timeline."""
        if self.text:
            return self.text
        return ", ".join(f"{key}: {value}" for key, value in list(self.properties.items())[:3])


class PendingTouchpoint(models.Model):
    """A stored touchpoint that intents, segments and campaigns have not reacted to yet.
    Written in the transaction that stores the touchpoint, so a lost task message loses
    nothing: the next wake-up or the beat finds it here. A worker leases a batch while it
    works on it; a worker that dies leaves the lease to run out. Only the id is kept: a
    touchpoint deleted in the meantime is dropped when its turn comes."""

    touchpoint_id = models.BigIntegerField(primary_key=True)
    queued_at = models.DateTimeField(default=now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"touchpoint {self.touchpoint_id} waiting since {self.queued_at:%Y-%m-%d %H:%M:%S}"


class ImportJob(models.Model):
    """One run of an import command: which file, who ran it, how it ended and what came
    of it. Written outside the import's transaction, so a failed run is remembered too."""

    class Kind(models.TextChoices):
        CONTACTS = "contacts", "Contacts"
        TOUCHPOINTS = "touchpoints", "Touchpoints"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded, columns to map"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    file_name = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    counts = models.JSONField(default=dict, blank=True, help_text="e.g. created, updated, rejected")
    error = models.TextField(blank=True)
    actor_kind = models.CharField(max_length=12)
    actor_name = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # From the browser: the uploaded file, how its columns map to fields, and how far the
    # worker has read it (written from outside the import's transaction, so it shows).
    upload = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="file column -> field; '' leaves it out")
    rejects = models.FileField(upload_to="imports/rejects/%Y/%m/", blank=True)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import of {self.file_name} ({self.status})"

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.bytes_done / self.bytes_total)) if self.bytes_total else 0


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    ERASED = "erased", "Erased on request"
    MANUAL = "manual", "Added by hand"
    STOP = "stop", "STOP reply"


class Suppression(models.Model):
    """An address that is never sent to again, whatever a campaign says.

    Only a SHA-256 hash of the normalised address is kept (lower-case e-mail, E.164 phone),
    so the list can outlive the person's data: an erased contact who is imported again is
    still recognised, without the list itself holding anyone's address.
    """

    Reason = SuppressionReason

    channel = models.CharField(max_length=8, choices=ConsentChannel.choices)
    address_hash = models.CharField(max_length=64, help_text="SHA-256 of the normalised address, in hex")
    reason = models.CharField(max_length=12, choices=SuppressionReason.choices)
    detail = models.CharField(max_length=500, blank=True, help_text="e.g. the bounce's diagnostic code")
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address_hash"], name="suppression_unique"),
            models.CheckConstraint(
                condition=Q(address_hash__regex=r"^[0-9a-f]{64}$"), name="suppression_hash_hex"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address_hash[:12]}… ({self.get_reason_display()})"
