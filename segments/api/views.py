from dataclasses import asdict

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.errors import error_response
from common.api.pagination import IdCursorPagination
from contacts.models import Contact
from segments import services
from segments.api.serializers import (
    FromTopicInput,
    MemberOutput,
    MembersInput,
    PreviewInput,
    PreviewOutput,
    SegmentInput,
    SegmentOutput,
    SegmentPatchInput,
    WhyOutput,
)
from segments.conditions.schema import ConditionError
from segments.evaluation import parsed, preview, why
from segments.models import Membership, Segment


def _errors(pairs: list[tuple[str, str]], prefix: str = "") -> Response:
    return error_response([{"path": f"{prefix}{path}" if path else prefix.rstrip("."), "message": message}
                           for path, message in pairs])  # fmt: skip


class MemberPagination(IdCursorPagination):
    ordering = "-contact_id"


class SegmentViewSet(viewsets.ModelViewSet):
    """Segments in the condition language. Saving one re-forms its membership in the
    background; `members/` lists who is in now."""

    queryset = Segment.objects.order_by("-id")
    serializer_class = SegmentOutput
    lookup_field = "slug"
    filterset_fields = ["kind"]

    def _save(self, request, *, segment: Segment | None, partial: bool, status_code: int) -> Response:
        serializer = (SegmentPatchInput if partial else SegmentInput)(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            if segment is None:
                segment = services.segment_create(**data)
            else:
                segment = services.segment_update(segment=segment, data=data)
        except services.SegmentError as error:
            return _errors(error.errors)
        segment.refresh_from_db()
        return Response(SegmentOutput(segment).data, status=status_code)

    @extend_schema(request=SegmentInput, responses={201: SegmentOutput})
    def create(self, request, *args, **kwargs):
        return self._save(request, segment=None, partial=False, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=SegmentInput, responses=SegmentOutput)
    def update(self, request, *args, **kwargs):
        partial = kwargs.get("partial", False)
        return self._save(request, segment=self.get_object(), partial=partial, status_code=status.HTTP_200_OK)

    @extend_schema(request=SegmentPatchInput, responses=SegmentOutput)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        try:
            services.segment_delete(segment=self.get_object())
        except services.SegmentError as error:
            return _errors(error.errors)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=MemberOutput(many=True))
    @action(detail=True, methods=["get"], pagination_class=MemberPagination, filterset_fields=[])
    def members(self, request, slug=None):
        segment = self.get_object()
        page = self.paginate_queryset(
            Membership.objects.filter(segment=segment)
            .select_related("contact")
            .only("contact_id", "entered_at", "contact__email", "contact__first_name", "contact__last_name")
        )
        return self.get_paginated_response(MemberOutput(page, many=True).data)

    @extend_schema(request=MembersInput, responses={200: SegmentOutput})
    @members.mapping.post
    def members_add(self, request, slug=None):
        """Put contacts on a static list."""
        return self._change_members(request, services.static_members_add)

    @extend_schema(request=MembersInput, responses={200: SegmentOutput})
    @action(detail=True, methods=["post"], url_path="members/remove")
    def members_remove(self, request, slug=None):
        """Take contacts off a static list."""
        return self._change_members(request, services.static_members_remove)

    def _change_members(self, request, change) -> Response:
        segment = self.get_object()
        serializer = MembersInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            change(segment=segment, contact_ids=serializer.validated_data["contact_ids"])
        except services.SegmentError as error:
            return _errors(error.errors)
        segment.refresh_from_db()
        return Response(SegmentOutput(segment).data)

    @extend_schema(request=FromTopicInput, responses={201: SegmentOutput})
    @action(detail=False, methods=["post"], url_path="from-topic", filterset_fields=[])
    def from_topic(self, request):
        """The contacts who wrote a discovered topic's texts, as a new static list."""
        from intents.models import DiscoveredTopic

        serializer = FromTopicInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        topic_id = serializer.validated_data["topic"]
        if not DiscoveredTopic.objects.filter(pk=topic_id).exists():
            return error_response(
                [{"path": "topic", "message": f"no discovered topic with the id {topic_id}"}]
            )
        segment = services.segment_from_topic_create(topic_id=topic_id)
        segment.refresh_from_db()
        return Response(SegmentOutput(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PreviewInput, responses=PreviewOutput)
    @action(detail=False, methods=["post"], filterset_fields=[])
    def preview(self, request):
        """How many contacts a tree matches now, a few of them, and the tree in words."""
        serializer = PreviewInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            node = parsed(serializer.validated_data["conditions"])
        except ConditionError as error:
            return _errors(error.errors, prefix="conditions.")
        return Response(asdict(preview(node, now=timezone.now())))

    @extend_schema(
        parameters=[OpenApiParameter("contact", int, required=True, description="the contact's id")],
        responses=WhyOutput,
    )
    @action(detail=True, methods=["get"], filterset_fields=[])
    def why(self, request, slug=None):
        """Why a contact is in this segment or not: every node of the tree, true or false."""
        segment = self.get_object()
        raw = request.query_params.get("contact", "")
        if not raw.isdigit():
            return error_response([{"path": "contact", "message": "expected a contact id"}])
        contact = get_object_or_404(Contact, pk=int(raw))
        member = Membership.objects.filter(segment=segment, contact=contact).exists()
        if segment.kind == Segment.Kind.STATIC:
            return Response({"contact": contact.pk, "member": member, "matches": member, "tree": None})
        answer = why(parsed(segment.conditions), contact_id=contact.pk, now=timezone.now())
        return Response(
            {"contact": contact.pk, "member": member, "matches": answer.result, "tree": asdict(answer)}
        )
