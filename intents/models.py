import math
from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from contacts.models import Contact, Touchpoint, TouchpointKind
from intents.taxonomy import JOURNEY, NEEDS

UNIT_INTERVAL = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Intent(models.Model):
    """What a person wants. The key is what rules, conditions and the API refer to."""

    class Group(models.TextChoices):
        NEED = NEEDS, "Need"
        JOURNEY_STAGE = JOURNEY, "Buying journey"
        OTHER = "other", "Other"

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    group = models.CharField(max_length=20, choices=Group.choices, default=Group.OTHER)
    description = models.TextField(blank=True)
    half_life_hours = models.FloatField(
        default=168,
        validators=[MinValueValidator(0.1)],
        help_text="After this many hours a signal of this intent counts half as much.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["group", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(half_life_hours__gt=0), name="intent_half_life_positive"),
        ]

    def __str__(self) -> str:
        return self.name


def decayed(score: float, *, since: datetime, at: datetime, half_life_hours: float) -> float:
    """A score stored at `since`, as it stands at `at`: halved every half-life."""
    hours = max(0.0, (at - since).total_seconds() / 3600)
    return score * math.pow(0.5, hours / half_life_hours)


class IntentExample(models.Model):
    """A text whose intent a person decided: a labelled touchpoint, or an imported line.
    No intent means "none of ours": the model learns to say so too."""

    class Source(models.TextChoices):
        TOUCHPOINT = "touchpoint", "Labelled touchpoint"
        IMPORT = "import", "Imported"

    text = models.TextField()
    intent = models.ForeignKey(
        Intent,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="examples",
        help_text="Empty: the text expresses none of our intents.",
    )
    touchpoint = models.OneToOneField(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="intent_label"
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.TOUCHPOINT)
    labelled_by = models.CharField(max_length=200, blank=True, editable=False)
    labelled_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["-labelled_at", "-id"]
        indexes = [models.Index(fields=["intent"], name="intentexample_intent_idx")]

    def __str__(self) -> str:
        return f"{self.text[:60]} → {self.intent or 'no intent'}"


class IntentModel(models.Model):
    """One trained version of the text classifier, with how well it did on examples it
    never saw during training. At most one version is active."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    version = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    is_active = models.BooleanField(default=False)
    threshold = models.FloatField(
        null=True,
        blank=True,
        validators=UNIT_INTERVAL,
        help_text="Below this confidence the model claims no intent.",
    )
    algorithm = models.CharField(max_length=200, blank=True)
    example_count = models.PositiveIntegerField(default=0)
    evaluation = models.JSONField(default=dict, blank=True)
    training_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    # joblib bytes, signed with an HMAC of the secret key: only artifacts this installation
    # wrote are ever unpickled (see intents.learning.artifacts).
    artifact = models.BinaryField(null=True, blank=True, editable=False)
    requested_by = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    trained_at = models.DateTimeField(null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-version"]
        verbose_name = "intent model version"
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.get_status_display().lower()}{', active' if self.is_active else ''})"

    @property
    def accuracy(self) -> float | None:
        return self.evaluation.get("accuracy")

    @property
    def macro_f1(self) -> float | None:
        return self.evaluation.get("macro_f1")


class BehaviourRule(models.Model):
    """What a person did means an intent: e.g. a page view whose path starts with /pricing
    means compare. Conditions are on the touchpoint's properties, all of them must hold."""

    name = models.CharField(max_length=200)
    intent = models.ForeignKey(Intent, on_delete=models.CASCADE, related_name="behaviour_rules")
    kind = models.ForeignKey(
        TouchpointKind,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: touchpoints of any kind.",
    )
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text="A list, all must hold: "
        '[{"property": "path", "operator": "starts_with", "value": "/pricing"}]. '
        "Operators: equals, starts_with, contains, in (value is a list), exists, at_least, at_most.",
    )
    confidence = models.FloatField(default=0.8, validators=UNIT_INTERVAL)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from intents.rules import parse_conditions

        try:
            parse_conditions(self.conditions)
        except ValueError as error:
            raise ValidationError({"conditions": str(error)}) from error


class TextRule(models.Model):
    """Words in what a person wrote mean an intent. Context words around the phrase confirm
    it or veto it: "sick" with "drink" nearby is praise, with "hospital" nearby it is not."""

    name = models.CharField(max_length=200)
    intent = models.ForeignKey(Intent, on_delete=models.CASCADE, related_name="text_rules")
    phrases = models.TextField(help_text="One keyword or phrase per line; case and accents do not matter.")
    confirm_words = models.TextField(
        blank=True, help_text="One per line. When given, one of them must be near the phrase."
    )
    veto_words = models.TextField(
        blank=True, help_text="One per line. Any of them near the phrase cancels it."
    )
    context_window = models.PositiveSmallIntegerField(
        default=8, help_text="How many words each side of the phrase count as near."
    )
    confidence = models.FloatField(default=0.7, validators=UNIT_INTERVAL)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not [line for line in self.phrases.splitlines() if line.strip()]:
            raise ValidationError({"phrases": "give at least one keyword or phrase, one per line"})


class TouchpointIntent(models.Model):
    """What was recognised in one touchpoint, and why: the rule or the model version."""

    class Method(models.TextChoices):
        BEHAVIOUR_RULE = "behaviour_rule", "Behaviour rule"
        TEXT_RULE = "text_rule", "Text rule"
        MODEL = "model", "Learned model"
        NONE = "none", "Nothing recognised"

    touchpoint = models.OneToOneField(Touchpoint, on_delete=models.CASCADE, related_name="recognition")
    intent = models.ForeignKey(Intent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confidence = models.FloatField(null=True, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices)
    behaviour_rule = models.ForeignKey(
        BehaviourRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text_rule = models.ForeignKey(
        TextRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    model_version = models.ForeignKey(
        IntentModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    explanation = models.TextField(blank=True)
    recognised_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["intent"], name="touchpointintent_intent_idx")]

    def __str__(self) -> str:
        return self.explanation or self.get_method_display()


class IntentSignal(models.Model):
    """How strongly a contact shows an intent. `score` is the value at `updated_at`; it
    decays with the intent's half-life, computed when read, so nothing rewrites rows as
    time passes."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="intent_signals")
    intent = models.ForeignKey(Intent, on_delete=models.CASCADE, related_name="signals")
    score = models.FloatField(validators=UNIT_INTERVAL)
    updated_at = models.DateTimeField(default=now)
    last_touchpoint = models.ForeignKey(
        Touchpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "intent"], name="intent_signal_unique"),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=1), name="intent_signal_score_unit"
            ),
        ]
        indexes = [models.Index(fields=["intent", "updated_at"], name="intentsignal_intent_time_idx")]

    def __str__(self) -> str:
        return f"{self.intent} {self.score:.2f}"

    def score_at(self, at: datetime) -> float:
        return decayed(self.score, since=self.updated_at, at=at, half_life_hours=self.intent.half_life_hours)


class ScoringRule(models.Model):
    """Points toward a contact's lead score. Engagement rules give points for touchpoints
    (kind and property conditions) that fade with their own half-life; fit rules give
    points for who the contact is (conditions on its fields, its account, its attributes)."""

    class Kind(models.TextChoices):
        ENGAGEMENT = "engagement", "Engagement: what they do"
        FIT = "fit", "Fit: who they are"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    touchpoint_kind = models.ForeignKey(
        TouchpointKind,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Engagement rules only; empty: touchpoints of any kind.",
    )
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text="All must hold. Engagement: on touchpoint properties. Fit: on contact fields "
        '(e.g. "job_title", "country"), "account.industry", "account.employees", "attributes.plan". '
        '[{"property": "account.employees", "operator": "at_least", "value": 200}]',
    )
    points = models.IntegerField(help_text="May be negative.")
    half_life_hours = models.FloatField(
        default=336,
        validators=[MinValueValidator(0.1)],
        help_text="Engagement rules: points halve after this.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(half_life_hours__gt=0), name="scoring_rule_half_life_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from intents.rules import parse_conditions

        errors = {}
        try:
            parse_conditions(self.conditions)
        except ValueError as error:
            errors["conditions"] = str(error)
        if self.kind == self.Kind.FIT and self.touchpoint_kind_id:
            errors["touchpoint_kind"] = "a fit rule is about who the contact is, not about a touchpoint"
        if errors:
            raise ValidationError(errors)


class EngagementPoints(models.Model):
    """A contact's points from one engagement rule: `points` as of `updated_at`, fading
    with the rule's half-life, computed when read."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="engagement_points")
    rule = models.ForeignKey(ScoringRule, on_delete=models.CASCADE, related_name="+")
    points = models.FloatField()
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "rule"], name="engagement_points_unique")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.points:.1f}"

    def points_at(self, at: datetime) -> float:
        return decayed(self.points, since=self.updated_at, at=at, half_life_hours=self.rule.half_life_hours)


class DiscoveryRun(models.Model):
    """One pass of discovery over the texts that recognition refused in a period."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    text_count = models.PositiveIntegerField(default=0, help_text="refused texts gathered")
    topic_count = models.PositiveIntegerField(default=0, help_text="topics found")
    new_topic_count = models.PositiveIntegerField(default=0, help_text="topics never seen before")
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=200, blank=True, editable=False)
    started_at = models.DateTimeField(default=now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "topic discovery run"

    def __str__(self) -> str:
        return f"discovery of {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display().lower()})"


class DiscoveredTopic(models.Model):
    """Texts no intent was recognised in that say nearly the same thing: a need before
    anyone named it. A person names it (it becomes an intent with those texts as its
    examples) or dismisses it; later runs add new texts to it and keep its decision."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        NAMED = "named", "Named"
        DISMISSED = "dismissed", "Dismissed"

    title = models.CharField(max_length=200, help_text="its distinctive words, until a person names it")
    words = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    size = models.PositiveIntegerField(default=0, help_text="texts in the topic")
    contact_count = models.PositiveIntegerField(default=0, help_text="contacts who wrote them")
    # The mean of its texts' sentence embeddings (unit length): how a later run knows it
    # again once its first texts have left the period.
    centroid = ArrayField(models.FloatField(), default=list, blank=True)
    embedding_model = models.CharField(max_length=100, blank=True)
    first_seen_at = models.DateTimeField(default=now)
    last_seen_at = models.DateTimeField(default=now)
    last_run = models.ForeignKey(
        DiscoveryRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="topics"
    )
    intent = models.ForeignKey(
        Intent, null=True, blank=True, on_delete=models.SET_NULL, related_name="discovered_topics"
    )
    decided_by = models.CharField(max_length=200, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-last_seen_at", "-size", "-id"]
        verbose_name = "discovered topic"
        indexes = [models.Index(fields=["status", "first_seen_at"], name="topic_status_seen_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="named") | Q(intent__isnull=False), name="named_topic_has_intent"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TopicText(models.Model):
    """A refused touchpoint's text gathered into a topic, and how close it is to the
    topic's centre (cosine similarity of the sentence embeddings)."""

    topic = models.ForeignKey(DiscoveredTopic, on_delete=models.CASCADE, related_name="texts")
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["touchpoint"], name="topic_text_one_topic")]
        indexes = [models.Index(fields=["topic", "-similarity"], name="topic_text_nearest_idx")]

    def __str__(self) -> str:
        return f"touchpoint {self.touchpoint_id} in {self.topic_id}"
