"""API for audiences and for a contact's personal data (export, erasure)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.audiences import audience_sync
from campaigns.models import Audience, AudienceSync
from campaigns.privacy import contact_erase, contact_export
from common.api.errors import error_response
from contacts.models import Contact
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


class _ContactPermission(BasePermission):
    """Export needs to read contacts; erasure needs to delete them."""

    def has_permission(self, request, view):
        perm = "contacts.delete_contact" if request.method == "POST" else "contacts.view_contact"
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(perm))


class ContactExportView(APIView):
    """`GET contacts/{id}/export/`: everything held about the contact, as one JSON document
    (fields, consent history, touchpoints, segments, enrollments, messages)."""

    permission_classes = [_ContactPermission]

    @extend_schema(
        operation_id="contacts_personal_data_export",
        responses={200: inline_serializer("PersonalData", {"contact": serializers.DictField()})},
    )
    def get(self, request, pk: int):
        document = contact_export(contact=get_object_or_404(Contact, pk=pk))
        response = Response(document)
        response["Content-Disposition"] = f'attachment; filename="contact-{pk}-personal-data.json"'
        return response


class ContactEraseView(APIView):
    """`POST contacts/{id}/erase/` with an optional `{"reason": "..."}`: erase the contact's
    personal data; its addresses stay only as hashes on the suppression list."""

    permission_classes = [_ContactPermission]

    @extend_schema(
        request=inline_serializer(
            "EraseInput", {"reason": serializers.CharField(required=False, max_length=200)}
        ),
        responses={200: inline_serializer("EraseOutput", {"erased": serializers.DictField()})},
    )
    def post(self, request, pk: int):
        contact = get_object_or_404(Contact, pk=pk)
        reason = request.data.get("reason", "") if isinstance(request.data, dict) else ""
        if not isinstance(reason, str) or len(reason) > 200:
            return error_response([{"path": "reason", "message": "a text of at most 200 characters"}])
        return Response({"erased": contact_erase(contact=contact, reason=reason)}, status=status.HTTP_200_OK)
