from rest_framework import serializers

from common.api.serializers import StrictSerializer
from segments.models import Segment
from segments.selectors import segment_explanation


class SegmentInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    kind = serializers.ChoiceField(choices=Segment.Kind.choices, required=False)
    conditions = serializers.JSONField(
        required=False, help_text="a tree in the condition language (shared/spec/conditions.md)"
    )


class SegmentPatchInput(SegmentInput):
    name = serializers.CharField(max_length=200, required=False)


class SegmentOutput(serializers.ModelSerializer):
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = Segment
        fields = [
            "id", "name", "slug", "description", "kind", "conditions", "explanation", "size", "uses_time",
            "rebuilt_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_explanation(self, segment) -> str:
        return segment_explanation(segment)


class MemberOutput(serializers.Serializer):
    id = serializers.IntegerField(source="contact_id")
    email = serializers.CharField(source="contact.email")
    first_name = serializers.CharField(source="contact.first_name")
    last_name = serializers.CharField(source="contact.last_name")
    entered_at = serializers.DateTimeField()


class MembersInput(StrictSerializer):
    contact_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=10_000)


class PreviewInput(StrictSerializer):
    conditions = serializers.JSONField()


class SampleContact(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class PreviewOutput(serializers.Serializer):
    count = serializers.IntegerField()
    sample = SampleContact(many=True)
    explanation = serializers.CharField()


class NodeResultOutput(serializers.Serializer):
    path = serializers.CharField()
    text = serializers.CharField()
    result = serializers.BooleanField()
    children = serializers.ListField(child=serializers.DictField())


class WhyOutput(serializers.Serializer):
    contact = serializers.IntegerField()
    member = serializers.BooleanField()
    matches = serializers.BooleanField()
    tree = NodeResultOutput(allow_null=True)


class FromTopicInput(StrictSerializer):
    topic = serializers.IntegerField(help_text="the id of a discovered topic")
