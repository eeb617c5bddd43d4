import re

from rest_framework import serializers

from contacts.models import Touchpoint
from intents.models import (
    BehaviourRule,
    DiscoveredTopic,
    Intent,
    IntentExample,
    IntentModel,
    IntentSignal,
    ScoringRule,
    TextRule,
)

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


class IntentKeyField(serializers.SlugRelatedField):
    """An intent by its key. A key is a slug: anything else is unknown without asking the
    database (which refuses NUL characters outright)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="key", queryset=Intent.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not SLUG.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:64])
        return super().to_internal_value(data)


class IntentOutput(serializers.ModelSerializer):
    class Meta:
        model = Intent
        fields = ["id", "key", "name", "group", "description", "half_life_hours", "is_active"]
        read_only_fields = fields


class IntentExampleInput(serializers.Serializer):
    touchpoint = serializers.PrimaryKeyRelatedField(
        queryset=Touchpoint.objects.only("pk", "contact_id", "text", "properties"),
        required=False,
        allow_null=True,
        help_text="The touchpoint to label; its text is learned from unless `text` is given.",
    )
    text = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    intent = IntentKeyField(allow_null=True, help_text="The intent's key; null: none of our intents.")

    def validate(self, data):
        if not data.get("touchpoint") and not (data.get("text") or "").strip():
            raise serializers.ValidationError(
                {"text": ["give a touchpoint to label, or the text of an example"]}
            )
        return data


class IntentExampleOutput(serializers.ModelSerializer):
    intent = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)

    class Meta:
        model = IntentExample
        fields = ["id", "text", "intent", "touchpoint", "source", "labelled_by", "labelled_at"]
        read_only_fields = fields


class IntentModelOutput(serializers.ModelSerializer):
    class Meta:
        model = IntentModel
        fields = [
            "id", "version", "status", "is_active", "threshold", "algorithm", "example_count", "evaluation",
            "training_seconds", "error", "requested_by", "created_at", "trained_at", "activated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ThresholdInput(serializers.Serializer):
    threshold = serializers.FloatField(min_value=0.0, max_value=1.0)


class IntentSignalOutput(serializers.ModelSerializer):
    intent = serializers.CharField(source="intent.key", read_only=True)
    current_score = serializers.FloatField(read_only=True, help_text="the stored score decayed to now")

    class Meta:
        model = IntentSignal
        fields = ["id", "contact", "intent", "current_score", "score", "updated_at", "last_touchpoint"]
        read_only_fields = fields


class ModelCleanMixin:
    """Rules validate themselves in clean(); the API says what is wrong the same way."""

    def validate(self, data):
        from django.core.exceptions import ValidationError as DjangoValidationError

        instance = self.Meta.model(**{**self._current(), **data})
        try:
            instance.clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        return data

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {field: getattr(self.instance, field) for field in self.Meta.fields if field != "id"}


class BehaviourRuleSerializer(ModelCleanMixin, serializers.ModelSerializer):
    intent = IntentKeyField()

    class Meta:
        model = BehaviourRule
        fields = ["id", "name", "intent", "kind", "conditions", "confidence", "is_active"]


class TextRuleSerializer(ModelCleanMixin, serializers.ModelSerializer):
    intent = IntentKeyField()

    class Meta:
        model = TextRule
        fields = ["id", "name", "intent", "phrases", "confirm_words", "veto_words", "context_window",
                  "confidence", "is_active"]  # fmt: skip


class ScoringRuleSerializer(ModelCleanMixin, serializers.ModelSerializer):
    class Meta:
        model = ScoringRule
        fields = [
            "id",
            "name",
            "kind",
            "touchpoint_kind",
            "conditions",
            "points",
            "half_life_hours",
            "is_active",
        ]


class ScoreLineOutput(serializers.Serializer):
    rule = serializers.CharField()
    kind = serializers.ChoiceField(choices=["fit", "engagement"])
    points = serializers.FloatField()
    why = serializers.CharField()


class LeadScoreOutput(serializers.Serializer):
    contact = serializers.IntegerField()
    score = serializers.IntegerField()
    lines = ScoreLineOutput(many=True)


class TopicOutput(serializers.ModelSerializer):
    intent = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)
    representatives = serializers.SerializerMethodField(help_text="the texts nearest the topic's centre")
    trend = serializers.SerializerMethodField(help_text="texts per day over the last 14 days, today last")

    class Meta:
        model = DiscoveredTopic
        fields = ["id", "title", "status", "size", "contact_count", "words", "representatives", "trend",
                  "intent", "first_seen_at", "last_seen_at", "decided_by", "decided_at"]  # fmt: skip
        read_only_fields = fields

    def get_representatives(self, topic) -> list[str]:
        from intents.selectors import topic_representatives

        return topic_representatives(topic=topic)

    def get_trend(self, topic) -> list[int]:
        trends = self.context.get("trends")
        if trends is not None and topic.pk in trends:
            return trends[topic.pk]
        from intents.selectors import topic_trends

        return topic_trends(topic_ids=[topic.pk])[topic.pk]


class TopicNameInput(serializers.Serializer):
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="the new intent's name"
    )
    intent = IntentKeyField(
        required=False, allow_null=True, help_text="merge the topic into this existing intent instead"
    )
    retrain = serializers.BooleanField(default=False, help_text="queue a new model version that learns it")

    def validate(self, data):
        if data.get("intent") is None and not (data.get("name") or "").strip():
            raise serializers.ValidationError(
                {"name": ["give the new intent a name, or an existing intent to merge the topic into"]}
            )
        if data.get("intent") is not None and (data.get("name") or "").strip():
            raise serializers.ValidationError(
                {"name": ["give a name for a new intent or an intent to merge into, not both"]}
            )
        return data


class TopicNamedOutput(serializers.Serializer):
    topic = TopicOutput()
    intent = IntentOutput()
    examples = serializers.IntegerField(help_text="texts that became the intent's examples")
    created = serializers.BooleanField(help_text="a new intent (false: merged into an existing one)")
    model = IntentModelOutput(allow_null=True, help_text="the version queued for training, if asked")


class DiscoveryQueuedOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["queued"])
