"""API for audiences: segments kept in step with places outside."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.errors import error_response
from messaging.audiences import audience_sync
from messaging.models import Audience, AudienceSync
from segments.models import Segment


class AudienceSerializer(serializers.ModelSerializer):
    segment = serializers.SlugRelatedField(slug_field="slug", queryset=Segment.objects.all())

    class Meta:
        model = Audience
        fields = [
            "id",
            "name",
            "segment",
            "kind",
            "url",
            "secret",
            "every_hours",
            "last_synced_at",
            "created_at",
        ]
        read_only_fields = ["last_synced_at", "created_at"]
        extra_kwargs = {"secret": {"write_only": True}}

    def validate(self, data):
        kind = data.get("kind", getattr(self.instance, "kind", None))
        url = data.get("url", getattr(self.instance, "url", ""))
        if kind == Audience.Kind.WEBHOOK and not url:
            raise serializers.ValidationError(
                {"url": "a webhook audience needs the URL its members are posted to"}
            )
        return data


class AudienceSyncSerializer(serializers.ModelSerializer):
    file = serializers.SerializerMethodField(help_text="where to download the CSV; empty for a webhook")

    class Meta:
        model = AudienceSync
        fields = [
            "id",
            "audience",
            "status",
            "members",
            "excluded",
            "file",
            "error",
            "actor_name",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(str)
    def get_file(self, sync) -> str:
        if not sync.file:
            return ""
        request = self.context.get("request")
        return request.build_absolute_uri(sync.file.url) if request else sync.file.url


class AudienceViewSet(viewsets.ModelViewSet):
    """Audiences: a segment kept in step with an ad platform, a mailing house or an endpoint.
    `POST audiences/{id}/sync/` sends its members now."""

    queryset = Audience.objects.select_related("segment").order_by("-id")
    serializer_class = AudienceSerializer

    @extend_schema(request=None, responses=AudienceSyncSerializer)
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        audience = self.get_object()
        try:
            sync = audience_sync(audience=audience)
        except Exception as error:
            # the other side's failure, not ours: a 4xx that says what happened (a 5xx is a bug)
            return error_response([{"path": "", "message": f"the sync failed: {error}"}])
        return Response(AudienceSyncSerializer(sync, context={"request": request}).data)
