"""API for a contact's personal data: a copy of it (export) and its erasure."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api.errors import error_response
from contacts.models import Contact
from privacy.services import contact_erase, contact_export


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
