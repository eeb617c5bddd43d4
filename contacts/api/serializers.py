from django.contrib.auth import get_user_model
from rest_framework import serializers

from common.api.serializers import StrictSerializer
from contacts.models import Account, ConsentStatus, Contact, LifecycleStage, Touchpoint

MAX_TEXT = 100_000


def _text(max_length: int, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


class ContactInput(StrictSerializer):
    email = serializers.CharField(max_length=254)
    first_name = _text(100)
    last_name = _text(100)
    phone = _text(32)
    job_title = _text(150)
    city = _text(100)
    country = _text(2, help_text="ISO 3166 alpha-2, e.g. FR")
    timezone = _text(64, help_text="IANA name, e.g. Europe/Paris")
    lifecycle_stage = serializers.ChoiceField(
        choices=LifecycleStage.choices, required=False, allow_blank=True
    )
    source = _text(100)
    score = serializers.IntegerField(required=False, min_value=-1_000_000, max_value=1_000_000)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), required=False, allow_null=True
    )
    attributes = serializers.DictField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=200)
    consent_email = serializers.ChoiceField(choices=ConsentStatus.choices, required=False, allow_blank=True)
    consent_sms = serializers.ChoiceField(choices=ConsentStatus.choices, required=False, allow_blank=True)

    def validate_country(self, value: str) -> str:
        return value.upper()


class ContactPatchInput(ContactInput):
    email = serializers.CharField(max_length=254, required=False)


class ContactOutput(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    account_name = serializers.CharField(source="account.name", read_only=True, default=None, allow_null=True)
    tags = serializers.SerializerMethodField()
    country = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id", "email", "first_name", "last_name", "phone", "job_title", "city", "country", "timezone",
            "lifecycle_stage", "source", "score", "owner", "account", "account_name", "tags",
            "consent_email", "consent_sms", "attributes", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_tags(self, contact) -> list[str]:
        return sorted(tag.name for tag in contact.tags.all())


class AccountInput(StrictSerializer):
    name = serializers.CharField(max_length=255)
    domain = _text(255)
    industry = _text(100)
    employees = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10_000_000)
    country = _text(2)
    attributes = serializers.DictField(required=False)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False, allow_null=True
    )

    def validate_country(self, value: str) -> str:
        return value.upper()


class AccountPatchInput(AccountInput):
    name = serializers.CharField(max_length=255, required=False)


class AccountOutput(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    country = serializers.CharField(read_only=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "domain",
            "industry",
            "employees",
            "country",
            "attributes",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TouchpointInput(StrictSerializer):
    email = serializers.CharField(max_length=254, help_text="the contact; created when unknown")
    kind = serializers.CharField(max_length=64)
    channel = _text(20, help_text="defaults to the kind's channel")
    occurred_at = serializers.DateTimeField(required=False, help_text="ISO 8601; defaults to now")
    source = _text(100)
    text = _text(MAX_TEXT)
    properties = serializers.DictField(required=False)
    external_id = serializers.CharField(
        max_length=255,
        required=False,
        allow_null=True,
        help_text="a retry with the same id is not stored twice",
    )


class TouchpointOutput(serializers.ModelSerializer):
    email = serializers.CharField(source="contact.email", read_only=True)
    kind = serializers.CharField(source="kind_id", read_only=True)

    class Meta:
        model = Touchpoint
        fields = [
            "id", "contact", "email", "kind", "channel", "occurred_at", "source", "text", "properties",
            "external_id", "intent", "intent_confidence", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class IngestItemResult(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "rejected"])
    id = serializers.IntegerField(required=False)
    contact = serializers.IntegerField(required=False)
    errors = serializers.ListField(child=serializers.DictField(), required=False)


class IngestOutput(serializers.Serializer):
    created = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = IngestItemResult(many=True)
