import re
from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from common.api.errors import error_response, flatten
from common.api.renderers import CSVRenderer
from contacts import services
from contacts.api.serializers import (
    MAX_TEXT,
    AccountInput,
    AccountOutput,
    AccountPatchInput,
    ContactInput,
    ContactOutput,
    ContactPatchInput,
    IngestOutput,
    TouchpointInput,
    TouchpointOutput,
)
from contacts.exports import contacts_csv, csv_response, touchpoints_csv
from contacts.filters import AccountFilter, ContactFilter, TouchpointFilter
from contacts.ingest import TouchpointIn, touchpoints_ingest
from contacts.models import Account, Contact, Tag, Touchpoint, TouchpointKind
from contacts.normalize import normalize_email

MAX_BATCH = 1000
# TouchpointInput's text fields: (name, max_length, required, may be empty).
PLAIN_TEXT_FIELDS = (
    ("email", 254, True, False), ("kind", 64, True, False), ("channel", 20, False, True),
    ("source", 100, False, True), ("text", MAX_TEXT, False, True), ("external_id", 255, False, False),
)  # fmt: skip
# What DRF's CharField refuses in any text: NUL and lone surrogates.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
CONSENT_FIELDS = ("consent_email", "consent_sms")


def _split_contact_input(data: dict) -> tuple[dict, list[str] | None, dict[str, str]]:
    tags = data.pop("tags", None)
    consent = {field.removeprefix("consent_"): data.pop(field) for field in CONSENT_FIELDS if field in data}
    return data, tags, consent


class ContactViewSet(viewsets.ModelViewSet):
    """Contacts. Writes go through the same services as the back-office, so the ledger
    records them; with an API key they are the integration's algorithmic actions."""

    queryset = (
        Contact.objects.select_related("account", "owner")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.only("name")))
        .order_by("-id")
    )
    serializer_class = ContactOutput
    filterset_class = ContactFilter

    def _save(self, request, *, contact: Contact | None, partial: bool, status_code: int) -> Response:
        input_class = ContactPatchInput if partial else ContactInput
        serializer = input_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, tags, consent = _split_contact_input(dict(serializer.validated_data))
        contact = services.contact_save(
            contact=contact, data=data, tags=tags, consent=consent, consent_source="API"
        )
        return Response(ContactOutput(self.get_queryset().get(pk=contact.pk)).data, status=status_code)

    @extend_schema(request=ContactInput, responses={201: ContactOutput})
    def create(self, request, *args, **kwargs):
        return self._save(request, contact=None, partial=False, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=ContactInput, responses=ContactOutput)
    def update(self, request, *args, **kwargs):
        partial = kwargs.get("partial", False)
        return self._save(request, contact=self.get_object(), partial=partial, status_code=status.HTTP_200_OK)

    @extend_schema(request=ContactPatchInput, responses=ContactOutput)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)

    @extend_schema(request=ContactInput, responses={200: ContactOutput, 201: ContactOutput})
    @action(detail=False, methods=["post"])
    def upsert(self, request):
        """Create the contact, or update the one with this e-mail (compared after
        normalisation). Fields left out or empty keep their stored value."""
        serializer = ContactPatchInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, tags, consent = _split_contact_input(dict(serializer.validated_data))
        if not data.get("email"):
            raise serializers.ValidationError({"email": ["This field is required."]})
        try:
            contact, created = services.contact_upsert(
                email=data.pop("email"), data=data, tags=tags, consent=consent, consent_source="API"
            )
        except DjangoValidationError as error:
            if not hasattr(error, "error_dict"):  # the e-mail itself was refused
                raise serializers.ValidationError({"email": error.messages}) from error
            raise
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ContactOutput(self.get_queryset().get(pk=contact.pk)).data, status=code)

    @extend_schema(responses={(200, "text/csv"): str}, filters=True)
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, JSONRenderer])
    def export(self, request):
        """The filtered contacts as CSV, streamed, in the columns import_contacts reads."""
        queryset = self.filter_queryset(Contact.objects.all())
        return csv_response(contacts_csv(queryset), "contacts.csv")


class AccountViewSet(viewsets.ModelViewSet):
    queryset = Account.objects.select_related("owner").order_by("-id")
    serializer_class = AccountOutput
    filterset_class = AccountFilter

    @extend_schema(request=AccountInput, responses={201: AccountOutput})
    def create(self, request, *args, **kwargs):
        serializer = AccountInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.account_create(**serializer.validated_data)
        return Response(AccountOutput(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AccountInput, responses=AccountOutput)
    def update(self, request, *args, **kwargs):
        serializer = (AccountPatchInput if kwargs.get("partial") else AccountInput)(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = self.get_object()
        services.account_update(account=account, data=serializer.validated_data)
        return Response(AccountOutput(account).data)

    @extend_schema(request=AccountPatchInput, responses=AccountOutput)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.account_delete(account=instance)


class TouchpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Touchpoints: read them, or send one object or a list of up to 1000.

    The whole request is validated before anything is written; with `?partial=1` the valid
    items are stored and each item gets its own result.
    """

    queryset = Touchpoint.objects.select_related("contact").order_by("-id")
    serializer_class = TouchpointOutput
    filterset_class = TouchpointFilter

    @extend_schema(
        request=TouchpointInput(many=True),
        responses={201: IngestOutput, 200: IngestOutput},
        parameters=[
            OpenApiParameter("partial", bool, description="store the valid items, report the others")
        ],
    )
    def create(self, request, *args, **kwargs):
        body = request.data
        single = isinstance(body, dict)
        raw_items = [body] if single else body
        if not isinstance(raw_items, list):
            return error_response([{"path": "", "message": "expected a touchpoint object or a list of them"}])
        if len(raw_items) > MAX_BATCH:
            return error_response([{"path": "", "message": f"at most {MAX_BATCH} touchpoints per request"}])
        partial = request.query_params.get("partial") in ("1", "true", "yes")
        checker = _TouchpointChecker()
        valid, rejected = [], {}
        for index, raw in enumerate(raw_items):
            prefix = "" if single else f"[{index}]"
            item, errors = checker.check(raw)
            if errors:
                rejected[index] = [
                    {
                        "path": f"{prefix}.{e['path']}" if prefix and e["path"] else (prefix or e["path"]),
                        "message": e["message"],
                    }
                    for e in errors
                ]
            else:
                valid.append((index, item))
        if rejected and not partial:
            return error_response([error for errors in rejected.values() for error in errors])
        results = touchpoints_ingest(items=[item for _, item in valid])
        by_index = {index: result for (index, _), result in zip(valid, results, strict=True)}
        out = []
        for index in range(len(raw_items)):
            if index in rejected:
                out.append({"index": index, "status": "rejected", "errors": rejected[index]})
            else:
                result = by_index[index]
                out.append(
                    {"index": index, "status": result.status, "id": result.id, "contact": result.contact_id}
                )
        counts = {
            key: sum(1 for r in out if r["status"] == key) for key in ("created", "duplicate", "rejected")
        }
        code = status.HTTP_201_CREATED if counts["created"] else status.HTTP_200_OK
        return Response({**counts, "results": out}, status=code)

    @extend_schema(responses={(200, "text/csv"): str}, filters=True)
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, JSONRenderer])
    def export(self, request):
        """The filtered touchpoints as CSV, streamed, in the columns import_touchpoints reads."""
        queryset = self.filter_queryset(Touchpoint.objects.all())
        return csv_response(touchpoints_csv(queryset), "touchpoints.csv")


class _TouchpointChecker:
    """Validates the items of one request. One serializer serves all items: building one
    per item costs more than storing the item. (normalize_email remembers its answers.)"""

    def __init__(self):
        self.serializer = TouchpointInput()
        self.field_names = frozenset(self.serializer.fields)
        self.occurred_at = self.serializer.fields["occurred_at"]
        self.kinds = dict(TouchpointKind.objects.filter(is_active=True).values_list("key", "default_channel"))
        self.channels = set(dict(Touchpoint._meta.get_field("channel").choices))

    def check(self, raw) -> tuple[TouchpointIn | None, list[dict]]:
        if not isinstance(raw, dict):
            return None, [{"path": "", "message": "expected a JSON object"}]
        data = self._plain(raw)
        if data is None:
            try:
                data = self.serializer.run_validation(raw)
            except serializers.ValidationError as error:
                return None, flatten(error.detail)
        errors = []
        if data["kind"] not in self.kinds:
            known = ", ".join(sorted(self.kinds))
            errors.append({"path": "kind", "message": f"unknown kind {data['kind']!r}; known kinds: {known}"})
        email = ""
        try:
            email = normalize_email(data["email"])
        except DjangoValidationError as error:
            errors.append({"path": "email", "message": " ".join(error.messages)})
        channel = data.get("channel") or self.kinds.get(data["kind"], "")
        if channel and channel not in self.channels:
            errors.append({"path": "channel", "message": f"unknown channel {channel!r}"})
        if errors:
            return None, errors
        item = TouchpointIn(
            email=email,
            kind=data["kind"],
            channel=channel,
            occurred_at=data.get("occurred_at") or timezone.now(),
            source=data.get("source", ""),
            text=data.get("text", ""),
            properties=data.get("properties", {}),
            external_id=data.get("external_id") or None,
        )
        return item, []

    def _plain(self, raw: dict) -> dict | None:
        """What the serializer would answer for an item of plain strings (and a properties
        object), at a tenth of its cost; None when only the serializer can tell, which it
        then does, with its messages."""
        if not raw.keys() <= self.field_names:
            return None
        data: dict = {}
        for name, limit, required, blank in PLAIN_TEXT_FIELDS:
            if name not in raw:
                if required:
                    return None
                continue
            value = raw[name]
            if value is None and name == "external_id":
                data[name] = None
                continue
            if type(value) is not str or _REFUSED_CHARACTERS.search(value):
                return None
            value = value.strip()
            if len(value) > limit or (not value and not blank):
                return None
            data[name] = value
        if "properties" in raw:
            properties = raw["properties"]
            if type(properties) is not dict:
                return None
            data["properties"] = dict(properties)
        if "occurred_at" in raw:
            occurred_at = _aware_iso_datetime(raw["occurred_at"])
            if occurred_at is None:  # naive, or another format: the field decides
                try:
                    occurred_at = self.occurred_at.run_validation(raw["occurred_at"])
                except serializers.ValidationError:
                    return None
            data["occurred_at"] = occurred_at
        return data


def _aware_iso_datetime(value) -> datetime | None:
    """An ISO 8601 moment with its offset, as integrations send them, read without the
    serializer field's detours (the same instant it would give); None for anything else."""
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
        # In UTC, as the field gives it; out of range (year 1 at +05:00) the field says so.
        return moment.astimezone(UTC) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None
