from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from common.api.renderers import CSVRenderer
from reporting.api.serializers import PeriodQuery, RatioOutput, RatioQuery, SuggestionOutput
from reporting.exports import csv_response, groups_csv, suggestions_csv
from reporting.models import ActionRollup
from reporting.periods import Period, PeriodError
from reporting.ratio import Tally
from reporting.selectors import RatioReport, automation_ratio
from reporting.suggestions import automate_next


def _period(data: dict) -> Period:
    start, end = data.get("start"), data.get("end")
    try:
        return Period.parse(start and start.isoformat(), end and end.isoformat())
    except PeriodError as error:
        raise serializers.ValidationError({error.field: [error.message]}) from error


def _tally(tally: Tally, period: Period | None = None) -> dict:
    data = {
        "algorithmic": tally.algorithmic,
        "manual": tally.manual,
        "total": tally.total,
        "ratio": tally.ratio,
        "ratio_label": tally.label,
        "algorithmic_percent": tally.algorithmic_percent,
        "passes_99_to_1": tally.passes,
    }
    if period is not None:
        data.update(start=period.start, end=period.end)
    return data


def _report_data(report: RatioReport) -> dict:
    return {
        **_tally(report.totals, report.period),
        "group_by": report.group_by,
        "previous": _tally(report.previous, report.previous_period),
        "change_points": report.change,
        "groups": [
            {**_tally(group.tally), "key": group.key, "label": group.label, "actor_type": group.actor_type}
            for group in report.groups
        ],
    }


class ReportView(generics.GenericAPIView):
    """Reports read the rollups: whoever may view them (a Viewer, a read key) may read reports."""

    queryset = ActionRollup.objects.none()
    renderer_classes = [JSONRenderer, CSVRenderer]
    pagination_class = None
    filter_backends = []

    def query(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def wants_csv(self) -> bool:
        return self.request.accepted_renderer.format == "csv"


class AutomationRatioView(ReportView):
    """Algorithmic and manual actions of a period, their ratio and Brinker's 99 : 1 test,
    the previous period of the same length, and the period grouped by day, week or month
    (the trend, empty days included) or broken down by category, channel, campaign,
    integration, person, actor or verb. `?format=csv` gives the groups as CSV."""

    @extend_schema(parameters=[RatioQuery], responses={200: RatioOutput, (200, "text/csv"): str})
    def get(self, request):
        query = self.query(RatioQuery)
        period = _period(query)
        report = automation_ratio(period=period, group_by=query["group_by"])
        if self.wants_csv():
            name = f"automation-ratio-{query['group_by']}-{period.start}-{period.end}.csv"
            return csv_response(groups_csv(report.groups, key_name=query["group_by"]), name)
        return Response(RatioOutput(_report_data(report)).data)


class AutomateNextView(ReportView):
    """The largest sources of manual actions in the period, each with a concrete suggestion
    and the ratio if it were automated."""

    @extend_schema(
        parameters=[PeriodQuery], responses={200: SuggestionOutput(many=True), (200, "text/csv"): str}
    )
    def get(self, request):
        query = self.query(PeriodQuery)
        period = _period(query)
        suggestions = automate_next(period=period, limit=query["limit"])
        if self.wants_csv():
            name = f"automate-next-{period.start}-{period.end}.csv"
            return csv_response(suggestions_csv(suggestions), name)
        return Response(SuggestionOutput(suggestions, many=True).data)
