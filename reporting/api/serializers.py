from rest_framework import serializers

from common.api.serializers import StrictSerializer
from reporting.selectors import GROUP_BY


class RatioQuery(StrictSerializer):
    start = serializers.DateField(required=False, help_text="first day, YYYY-MM-DD (default: end - 29)")
    end = serializers.DateField(required=False, help_text="last day, included (YYYY-MM-DD); default: today")
    group_by = serializers.ChoiceField(
        choices=GROUP_BY,
        default="day",
        error_messages={"invalid_choice": "'{input}' is not a way to group; one of " + ", ".join(GROUP_BY)},
    )
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)


class PeriodQuery(StrictSerializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=5)
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)


class TallyOutput(serializers.Serializer):
    algorithmic = serializers.IntegerField()
    manual = serializers.IntegerField()
    total = serializers.IntegerField()
    ratio = serializers.FloatField(allow_null=True, help_text="algorithmic per manual; null if no manual")
    ratio_label = serializers.CharField(help_text="'312 : 1', 'no manual actions' or 'no actions'")
    algorithmic_percent = serializers.FloatField(allow_null=True)
    passes_99_to_1 = serializers.BooleanField(allow_null=True, help_text="null when there is no action")


class PeriodTallyOutput(TallyOutput):
    start = serializers.DateField()
    end = serializers.DateField()


class GroupOutput(TallyOutput):
    key = serializers.CharField()
    label = serializers.CharField()
    actor_type = serializers.CharField(required=False)


class RatioOutput(PeriodTallyOutput):
    group_by = serializers.CharField()
    previous = PeriodTallyOutput()
    change_points = serializers.FloatField(
        allow_null=True, help_text="how the algorithmic share moved against the previous period"
    )
    groups = GroupOutput(many=True)


class SuggestionOutput(serializers.Serializer):
    category = serializers.CharField()
    verb = serializers.CharField(help_text="empty when the source spans several kinds of action")
    source = serializers.CharField(
        help_text=(
            "where the manual work came from: files:<family of files>, import:<job>, "
            "send:<person> or work:<category>:<verb>"
        )
    )
    manual_actions = serializers.IntegerField(source="count")
    what = serializers.CharField()
    suggestion = serializers.CharField(source="advice")
    manual_share_percent = serializers.FloatField(source="manual_share")
    ratio_now = serializers.CharField(source="before.label")
    ratio_after = serializers.CharField(source="after.label")
