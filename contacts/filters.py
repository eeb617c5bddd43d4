import django_filters

from common.api.filters import IsoDateTimeFilter
from contacts.models import Account, Contact, LifecycleStage, Touchpoint


class ContactFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    lifecycle_stage = django_filters.ChoiceFilter(choices=LifecycleStage.choices)
    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", distinct=True)
    account = django_filters.NumberFilter(field_name="account_id")
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Contact
        fields = ["email", "country", "lifecycle_stage", "tag", "account", "updated_since"]


class AccountFilter(django_filters.FilterSet):
    domain = django_filters.CharFilter(field_name="domain", lookup_expr="iexact")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    industry = django_filters.CharFilter(field_name="industry", lookup_expr="iexact")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")

    class Meta:
        model = Account
        fields = ["domain", "name", "industry", "country"]


class TouchpointFilter(django_filters.FilterSet):
    contact = django_filters.NumberFilter(field_name="contact_id")
    email = django_filters.CharFilter(field_name="contact__email", lookup_expr="iexact")
    kind = django_filters.CharFilter(field_name="kind_id")
    channel = django_filters.CharFilter(field_name="channel")
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Touchpoint
        fields = ["contact", "email", "kind", "channel", "occurred_after", "occurred_before"]
