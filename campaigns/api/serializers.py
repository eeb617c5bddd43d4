from rest_framework import serializers

from campaigns.models import Campaign, Trigger
from common.api.serializers import StrictSerializer


class TriggerInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=Trigger.Kind.choices)
    touchpoint_kinds = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    touchpoint_filter = serializers.DictField(required=False)
    segment = serializers.SlugField(required=False, help_text="the segment's slug")


class CampaignInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    status = serializers.ChoiceField(choices=Campaign.Status.choices, required=False)
    priority = serializers.IntegerField(required=False)
    reentry = serializers.ChoiceField(choices=Campaign.Reentry.choices, required=False)
    reentry_days = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    entry_filter = serializers.JSONField(required=False, allow_null=True, help_text="a condition tree")
    goal = serializers.JSONField(required=False, allow_null=True, help_text="a condition tree")
    steps = serializers.JSONField(required=False, help_text="the journey: a list of steps with stable keys")
    triggers = TriggerInput(many=True, required=False)


class CampaignPatchInput(CampaignInput):
    name = serializers.CharField(max_length=200, required=False)


class TriggerOutput(serializers.ModelSerializer):
    segment = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Trigger
        fields = ["id", "kind", "touchpoint_kinds", "touchpoint_filter", "segment"]
        read_only_fields = fields


class CampaignOutput(serializers.ModelSerializer):
    triggers = TriggerOutput(many=True, read_only=True)
    version = serializers.IntegerField(source="version.number", allow_null=True, default=None)

    class Meta:
        model = Campaign
        fields = [
            "id", "name", "description", "status", "priority", "reentry", "reentry_days", "entry_filter",
            "goal", "steps", "triggers", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class EnrollInput(StrictSerializer):
    contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=10_000
    )
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=10_000
    )

    def validate(self, data):
        if not data.get("contact_ids") and not data.get("emails"):
            raise serializers.ValidationError("give contact_ids or emails")
        return data


class EnrollOutput(serializers.Serializer):
    enrolled = serializers.ListField(child=serializers.IntegerField())
    not_enrolled = serializers.ListField(child=serializers.IntegerField())
    unknown_contacts = serializers.ListField(child=serializers.IntegerField())
    unknown_emails = serializers.ListField(child=serializers.CharField())


class PublishOutput(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()


class RetryInput(StrictSerializer):
    enrollment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=10_000,
        help_text="failed enrollments of this campaign; left out: all of them",
    )  # fmt: skip


class RetryOutput(serializers.Serializer):
    retried = serializers.ListField(child=serializers.IntegerField())
    not_retried = serializers.ListField(child=serializers.IntegerField())
