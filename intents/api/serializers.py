from rest_framework import serializers

from contacts.models import Touchpoint
from intents.models import Intent, IntentExample, IntentModel, IntentSignal


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
    intent = serializers.SlugRelatedField(
        slug_field="key",
        queryset=Intent.objects.all(),
        allow_null=True,
        help_text="The intent's key; null: none of our intents.",
    )

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
