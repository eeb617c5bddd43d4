from rest_framework import serializers

from campaigns.models import Campaign, Trigger
from campaigns.selectors import BACKTEST_MAX_DAYS
from campaigns.triggers import trigger_kind_choices
from common.api.serializers import StrictSerializer


class TriggerInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=trigger_kind_choices())
    touchpoint_kinds = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    touchpoint_filter = serializers.DictField(required=False)
    segment = serializers.SlugField(required=False, help_text="the segment's slug")
    field = serializers.CharField(
        required=False, max_length=100,
        help_text="field_changed: the field's path; date: the date's path (attributes.renewal_on, "
        "created_at; with touchpoint_kinds: occurred_at, properties.event_at)",
    )  # fmt: skip
    value = serializers.JSONField(
        required=False, allow_null=True, help_text="field_changed: the value it changed to"
    )
    intent = serializers.CharField(
        required=False, max_length=64, help_text="intent_detected: the intent's key"
    )
    min_confidence = serializers.FloatField(required=False, allow_null=True, help_text="intent_detected")
    offset_days = serializers.IntegerField(
        required=False, help_text="date: days after it, negative for before"
    )
    time_of_day = serializers.CharField(
        required=False, max_length=5, help_text="date (contact's zone), schedule (site's zone): HH:MM"
    )
    weekdays = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=7, help_text="schedule: 0 is Monday"
    )


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
    time_of_day = serializers.TimeField(format="%H:%M", read_only=True, allow_null=True)

    class Meta:
        model = Trigger
        fields = [
            "id", "kind", "touchpoint_kinds", "touchpoint_filter", "segment", "field", "value", "intent",
            "min_confidence", "offset_days", "time_of_day", "weekdays",
        ]  # fmt: skip
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


class PlacementRow(serializers.Serializer):
    version = serializers.IntegerField()
    step = serializers.CharField()
    contacts = serializers.IntegerField()
    on_published = serializers.BooleanField()
    step_in_published = serializers.BooleanField(help_text="the published version has a step with this key")


class PlacementOutput(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True, help_text="the published version")
    inside = PlacementRow(many=True)
    movable = serializers.IntegerField(
        help_text="contacts on older versions whose step the published one has"
    )
    would_stay = serializers.IntegerField(help_text="contacts on older versions whose step it no longer has")


class PublishOutput(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    inside = PlacementOutput(help_text="where the contacts inside are; move them with migrate/")


class MigrateInput(StrictSerializer):
    from_versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="version numbers; all older ones if left out",
    )


class MigrateOutput(serializers.Serializer):
    version = serializers.IntegerField()
    moved = serializers.IntegerField()
    stayed = PlacementRow(many=True, help_text="contacts left on their version: their step is gone")


class SimulateInput(StrictSerializer):
    contact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=200
    )
    sample = serializers.IntegerField(
        required=False, min_value=1, max_value=200, help_text="a random sample of the contacts who may enter"
    )
    draft = serializers.BooleanField(required=False, default=False, help_text="simulate the draft steps")

    def validate(self, data):
        if not data.get("contact_ids") and not data.get("emails") and not data.get("sample"):
            raise serializers.ValidationError("give contact_ids, emails or a sample size")
        return data


class RetryInput(StrictSerializer):
    enrollment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=10_000,
        help_text="failed enrollments of this campaign; left out: all of them",
    )  # fmt: skip


class RetryOutput(serializers.Serializer):
    retried = serializers.ListField(child=serializers.IntegerField())
    not_retried = serializers.ListField(child=serializers.IntegerField())


class BacktestQuery(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, default=30, min_value=1, max_value=BACKTEST_MAX_DAYS,
        help_text="how many days back to look",
    )  # fmt: skip
