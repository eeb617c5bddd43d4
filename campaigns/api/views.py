from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import services
from campaigns.api.serializers import (
    BacktestQuery,
    CampaignInput,
    CampaignOutput,
    CampaignPatchInput,
    EnrollInput,
    EnrollOutput,
    MigrateInput,
    MigrateOutput,
    PlacementOutput,
    PublishOutput,
    RetryInput,
    RetryOutput,
    SimulateInput,
)
from campaigns.models import Campaign, Enrollment, Trigger
from campaigns.selectors import campaign_backtest, campaign_placement, campaign_stats
from common.api.errors import error_response


def _errors(error: services.CampaignError) -> Response:
    return error_response([{"path": path, "message": message} for path, message in error.errors])


class CampaignViewSet(viewsets.ModelViewSet):
    """Campaigns (journeys). Steps are edited as a draft; `publish/` freezes them as a new
    version that new contacts enter, while contacts inside stay on theirs."""

    queryset = Campaign.objects.select_related("version").prefetch_related(
        Prefetch("triggers", queryset=Trigger.objects.select_related("segment"))
    )
    serializer_class = CampaignOutput
    filterset_fields = ["status"]

    def get_queryset(self):
        return super().get_queryset().order_by("-id")

    def _save(self, request, *, campaign: Campaign | None, partial: bool, status_code: int) -> Response:
        serializer = (CampaignPatchInput if partial else CampaignInput)(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        triggers = data.pop("triggers", None)
        try:
            if campaign is None:
                campaign = services.campaign_create(triggers=triggers or (), **data)
            else:
                campaign = services.campaign_update(campaign=campaign, data=data, triggers=triggers)
        except services.CampaignError as error:
            return _errors(error)
        return Response(CampaignOutput(self.get_queryset().get(pk=campaign.pk)).data, status=status_code)

    @extend_schema(request=CampaignInput, responses={201: CampaignOutput})
    def create(self, request, *args, **kwargs):
        return self._save(request, campaign=None, partial=False, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignInput, responses=CampaignOutput)
    def update(self, request, *args, **kwargs):
        partial = kwargs.get("partial", False)
        return self._save(
            request, campaign=self.get_object(), partial=partial, status_code=status.HTTP_200_OK
        )

    @extend_schema(request=CampaignPatchInput, responses=CampaignOutput)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        campaign = self.get_object()
        if campaign.enrollments.exists():
            return error_response(
                [
                    {
                        "path": "",
                        "message": "contacts went through this campaign: archive it instead of deleting",
                    }
                ]
            )
        campaign.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=PublishOutput)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Freeze the draft steps as a new version and activate the campaign. The answer
        says where the contacts inside are, and how many could move to the new version."""
        campaign = self.get_object()
        try:
            version = services.campaign_publish(campaign=campaign)
        except services.CampaignError as error:
            return _errors(error)
        campaign.refresh_from_db()
        return Response(
            {
                "version": version.number,
                "status": campaign.status,
                "inside": campaign_placement(campaign=campaign),
            }
        )

    @extend_schema(responses=PlacementOutput)
    @action(detail=True, methods=["get"])
    def placement(self, request, pk=None):
        """How many contacts are inside, on which version and step, and whether the
        published version has that step."""
        return Response(campaign_placement(campaign=self.get_object()))

    @extend_schema(request=MigrateInput, responses=MigrateOutput)
    @action(detail=True, methods=["post"])
    def migrate(self, request, pk=None):
        """Move the contacts inside older versions to the published one, step by step key.
        Those whose step is gone stay on their version and are listed."""
        campaign = self.get_object()
        serializer = MigrateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = services.enrollments_migrate(
                campaign=campaign, from_versions=serializer.validated_data.get("from_versions")
            )
        except services.CampaignError as error:
            return _errors(error)
        return Response(result)

    @extend_schema(parameters=[BacktestQuery], responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def backtest(self, request, pk=None):
        """How many contacts the triggers would have enrolled over the last `days` days (30
        unless given, at most 365), per trigger and in all after the entry filter and the
        re-entry policy. Nothing is written."""
        campaign = self.get_object()
        query = BacktestQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(campaign_backtest(campaign=campaign, days=query.validated_data["days"]))

    @extend_schema(request=SimulateInput, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"])
    def simulate(self, request, pk=None):
        """Run the journey for some contacts (by id or e-mail) or a random sample of those
        who may enter, without any effect: each one's path and the messages it would get."""
        campaign = self.get_object()
        serializer = SimulateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = services.campaign_simulate(campaign=campaign, **serializer.validated_data)
        except services.CampaignError as error:
            return _errors(error)
        return Response(result)

    @extend_schema(request=EnrollInput, responses=EnrollOutput)
    @action(detail=True, methods=["post"])
    def enroll(self, request, pk=None):
        """Put contacts into the campaign, by id or e-mail. The entry filter and the re-entry
        policy decide who enters; the answer says who did and who did not."""
        campaign = self.get_object()
        serializer = EnrollInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = services.campaign_enroll(
                campaign=campaign,
                contact_ids=serializer.validated_data.get("contact_ids", []),
                emails=serializer.validated_data.get("emails", []),
            )
        except services.CampaignError as error:
            return _errors(error)
        return Response(result)

    @extend_schema(request=RetryInput, responses=RetryOutput)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Failed enrollments start again at the step that failed: the ones given, or every
        failed enrollment of the campaign."""
        campaign = self.get_object()
        serializer = RetryInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        failed = Enrollment.objects.filter(campaign=campaign, status=Enrollment.Status.FAILED)
        wanted = serializer.validated_data.get("enrollment_ids")
        if wanted is not None:
            failed = failed.filter(pk__in=wanted)
        result = services.enrollments_retry(enrollment_ids=failed.values_list("pk", flat=True))
        if wanted is not None:
            result["not_retried"] = sorted(set(wanted) - set(result["retried"]))
        return Response(result)

    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        """Per step: entered, waiting, completed, failed; and the enrollments by status."""
        return Response(campaign_stats(campaign=self.get_object()))
