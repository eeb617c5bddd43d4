"""E-mail templates through the API: the same checks as the admin, errors at their field
with the line inside it (`{"path": "html", "message": "line 3: there is no filter “pprint”; ..."}`)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.errors import error_response
from common.api.serializers import StrictSerializer
from contacts.models import Contact
from messaging import services
from messaging.email.rendering import RenderError
from messaging.models import EmailLayout, EmailTemplate


class EmailTemplateInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100, required=False, help_text="made from the name when left out")
    subject = serializers.CharField(max_length=300)
    preheader = serializers.CharField(max_length=300, required=False, allow_blank=True)
    html = serializers.CharField(required=False, allow_blank=True, max_length=200_000, trim_whitespace=False)
    text = serializers.CharField(required=False, allow_blank=True, max_length=200_000, trim_whitespace=False)
    layout = serializers.PrimaryKeyRelatedField(
        queryset=EmailLayout.objects.all(), required=False, allow_null=True, help_text="a layout's id"
    )


class EmailTemplatePatchInput(EmailTemplateInput):
    name = serializers.CharField(max_length=200, required=False)
    subject = serializers.CharField(max_length=300, required=False)


class EmailTemplateOutput(serializers.ModelSerializer):
    class Meta:
        model = EmailTemplate
        fields = [
            "id",
            "name",
            "slug",
            "subject",
            "preheader",
            "html",
            "text",
            "layout",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PreviewInput(StrictSerializer):
    contact_id = serializers.IntegerField(min_value=1, help_text="the contact to personalise it for")


class PreviewOutput(serializers.Serializer):
    subject = serializers.CharField()
    preheader = serializers.CharField()
    html = serializers.CharField()
    text = serializers.CharField()


def _errors(error: services.EmailTemplateError) -> Response:
    return error_response([{"path": path, "message": message} for path, message in error.errors])


class EmailTemplateViewSet(viewsets.ModelViewSet):
    """E-mail templates that `send_email` steps name by slug. Checked in the sandbox when saved."""

    queryset = EmailTemplate.objects.all()
    serializer_class = EmailTemplateOutput
    filterset_fields = ["slug"]

    def get_queryset(self):
        return super().get_queryset().order_by("-id")

    def _save(self, request, *, template, partial: bool, status_code: int) -> Response:
        serializer = (EmailTemplatePatchInput if partial else EmailTemplateInput)(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            if template is None:
                template = services.email_template_create(**data)
            else:
                services.email_template_update(template=template, data=data)
        except services.EmailTemplateError as error:
            return _errors(error)
        return Response(EmailTemplateOutput(template).data, status=status_code)

    @extend_schema(request=EmailTemplateInput, responses={201: EmailTemplateOutput})
    def create(self, request, *args, **kwargs):
        return self._save(request, template=None, partial=False, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=EmailTemplateInput, responses=EmailTemplateOutput)
    def update(self, request, *args, **kwargs):
        partial = kwargs.get("partial", False)
        return self._save(
            request, template=self.get_object(), partial=partial, status_code=status.HTTP_200_OK
        )

    @extend_schema(request=EmailTemplatePatchInput, responses=EmailTemplateOutput)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        try:
            services.email_template_delete(template=self.get_object())
        except services.EmailTemplateError as error:
            return _errors(error)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PreviewInput, responses=PreviewOutput)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """The template personalised for one contact, as it would be sent (without tracking)."""
        template = self.get_object()
        serializer = PreviewInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = get_object_or_404(Contact, pk=serializer.validated_data["contact_id"])
        try:
            rendered = services.email_template_preview(template=template, contact=contact)
        except RenderError as error:
            return error_response([{"path": "", "message": str(error)}])
        return Response(PreviewOutput(rendered).data)
