from django import forms
from django.contrib import admin
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html

from common.admin_paging import EstimatedCountPaginator
from common.admin_saving import adopt
from contacts import admin_imports, services  # noqa: F401 - admin_imports registers the import pages
from contacts.exports import contacts_csv, csv_response, touchpoints_csv
from contacts.models import (
    Account,
    ConsentChange,
    Contact,
    PendingTouchpoint,
    Suppression,
    SuppressionReason,
    Tag,
    Touchpoint,
    TouchpointKind,
)
from contacts.selectors import address_hash

TIMELINE_LIMIT = 20
SEARCH_ACCOUNTS_LISTED = 2000


class ContactAdminForm(forms.ModelForm):
    tag_names = forms.CharField(
        label="Tags",
        required=False,
        help_text="Separated by commas; new tags are created.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Contact
        # tags are edited as tag_names, through the tagging service
        fields = [*services.CONTACT_FIELDS, "consent_email", "consent_sms"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(tag.name for tag in self.instance.tags.all())

    def clean_tag_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tag_names"].split(",") if name.strip()]


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Tag.objects.order_by("name").values_list("pk", "name")[:200]]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(contacttag__tag_id=int(self.value()))
        return queryset


class TimelineFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset().select_related("kind").order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]


class TouchpointTimeline(admin.TabularInline):
    """The newest touchpoints, read-only; the full history is one click away."""

    model = Touchpoint
    formset = TimelineFormSet
    template = "admin/contacts/timeline_inline.html"
    fields = ["occurred_at", "kind", "channel", "source", "intent"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = f"Timeline: the newest {TIMELINE_LIMIT} touchpoints"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConsentHistory(admin.TabularInline):
    model = ConsentChange
    fields = ["changed_at", "channel", "previous_status", "status", "actor_kind", "actor_name", "source"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Consent history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ContactAdmin(admin.ModelAdmin):
    """The contact page's own part; registered by the project with the parts of the apps
    above (mops/admin.py)."""

    form = ContactAdminForm
    list_display = [
        "email",
        "full_name",
        "company",
        "country",
        "lifecycle_stage",
        "score",
        "tag_list",
        "consent_email",
        "updated_at",
    ]
    list_select_related = ["account"]
    list_filter = ["lifecycle_stage", TagFilter, "consent_email", "consent_sms", "country"]
    search_fields = ["email", "first_name", "last_name"]
    search_help_text = "Search by e-mail, first or last name, or company name."
    autocomplete_fields = ["account", "owner"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = [TouchpointTimeline, ConsentHistory]
    fieldsets = [
        (None, {"fields": ["email", ("first_name", "last_name"), "job_title", "account", "owner"]}),
        (
            "Where and how to reach",
            {"fields": ["phone", ("city", "country"), "timezone", ("consent_email", "consent_sms")]},
        ),
        ("Marketing", {"fields": ["lifecycle_stage", "source", "score", "tag_names", "attributes"]}),
        ("Record", {"fields": [("created_at", "updated_at")]}),
    ]

    @admin.display(description="name", ordering="last_name")
    def full_name(self, contact):
        return f"{contact.first_name} {contact.last_name}".strip()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description="tags")
    def tag_list(self, contact):
        return ", ".join(tag.name for tag in contact.tags.all())

    @admin.display(description="company", ordering="account__name")
    def company(self, contact):
        return contact.account.name if contact.account else ""

    def get_search_results(self, request, queryset, search_term):
        # Every word must match the e-mail, a name or the company. PostgreSQL answers the
        # OR fast only when each branch has its own index to combine (a BitmapOr);
        # "account IN (subquery)" has none, so the matching accounts are looked up first
        # and passed as a list, unless there are too many to list.
        condition = Q()
        for word in search_term.split():
            accounts = Account.objects.filter(name__icontains=word).values_list("pk", flat=True)
            account_ids = list(accounts[: SEARCH_ACCOUNTS_LISTED + 1])
            if len(account_ids) > SEARCH_ACCOUNTS_LISTED:
                account_ids = accounts
            condition &= (
                Q(email__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(account__in=account_ids)
            )
        return queryset.filter(condition), False

    actions = ["export_csv"]

    @admin.action(description="Export the selected contacts as CSV")
    def export_csv(self, request, queryset):
        return csv_response(contacts_csv(queryset), "contacts.csv")

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in services.CONTACT_FIELDS
        }
        if change:
            contact = Contact.objects.get(pk=obj.pk)
            services.contact_update(contact=contact, data=fields)
        else:
            contact = services.contact_create(**{"email": obj.email, **fields})
        for channel in ("email", "sms"):
            if f"consent_{channel}" in form.changed_data:
                services.contact_consent_set(
                    contact=contact,
                    channel=channel,
                    status=form.cleaned_data[f"consent_{channel}"],
                    source="back-office contact form",
                )
        adopt(obj, contact)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.contact_tags_set(contact=form.instance, names=form.cleaned_data["tag_names"])

    def delete_model(self, request, obj):
        services.contact_delete(contact=obj)

    def delete_queryset(self, request, queryset):
        services.contact_delete_many(contacts=queryset.only("pk", "email"))


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "industry", "employees", "country", "owner"]
    list_select_related = ["owner"]
    list_filter = ["industry", "country"]
    search_fields = ["name", "domain"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name in services.ACCOUNT_FIELDS
        }
        if change:
            account = Account.objects.get(pk=obj.pk)
            services.account_update(account=account, data=fields)
        else:
            account = services.account_create(**{"name": obj.name, **fields})
        adopt(obj, account)

    def delete_model(self, request, obj):
        services.account_delete(account=obj)

    def delete_queryset(self, request, queryset):
        for account in queryset:
            services.account_delete(account=account)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            services.tag_rename(tag=Tag.objects.get(pk=obj.pk), name=form.cleaned_data["name"])
        else:
            adopt(obj, services.tag_get_or_create_many(names=[form.cleaned_data["name"]])[0])

    def delete_model(self, request, obj):
        services.tag_delete(tag=obj)

    def delete_queryset(self, request, queryset):
        for tag in queryset:
            services.tag_delete(tag=tag)


@admin.register(TouchpointKind)
class TouchpointKindAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "default_channel", "is_active"]
    list_filter = ["default_channel", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["key", "name"]

    def get_readonly_fields(self, request, obj=None):
        # The key is what integrations send and what conditions refer to: fixed once created.
        return ["key"] if obj else []


class TouchpointAdmin(admin.ModelAdmin):
    """Registered by the project with the parts of the apps above (mops/admin.py)."""

    list_display = ["occurred_at", "kind", "channel", "contact_link", "source", "intent"]
    list_select_related = ["contact", "kind"]
    list_filter = ["kind", "channel"]
    search_fields = ["=external_id", "=contact__email"]
    search_help_text = "Exact e-mail of the contact, or exact external id."
    raw_id_fields = ["contact"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    fields = [
        "contact",
        "kind",
        "channel",
        "occurred_at",
        "source",
        "text",
        "properties",
        "external_id",
        "intent",
        "intent_confidence",
        "created_at",
    ]
    readonly_fields = ["created_at", "intent", "intent_confidence"]

    actions = ["export_csv"]

    @admin.action(description="Export the selected touchpoints as CSV")
    def export_csv(self, request, queryset):
        return csv_response(touchpoints_csv(queryset), "touchpoints.csv")

    @admin.display(description="contact", ordering="contact__email")
    def contact_link(self, touchpoint):
        return format_html(
            '<a href="../contact/{}/change/">{}</a>', touchpoint.contact_id, touchpoint.contact.email
        )

    def has_change_permission(self, request, obj=None):
        # A touchpoint is a fact that happened; it is captured or deleted, never rewritten.
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        touchpoint = services.touchpoint_create(
            contact=form.cleaned_data["contact"],
            kind=form.cleaned_data["kind"].pk,
            occurred_at=form.cleaned_data["occurred_at"],
            channel=form.cleaned_data["channel"],
            source=form.cleaned_data["source"] or "back-office",
            text=form.cleaned_data["text"],
            properties=form.cleaned_data["properties"],
            external_id=form.cleaned_data["external_id"],
        )
        adopt(obj, touchpoint)

    def delete_model(self, request, obj):
        services.touchpoint_delete_many(touchpoints=[obj])

    def delete_queryset(self, request, queryset):
        services.touchpoint_delete_many(touchpoints=queryset.only("pk", "contact_id", "kind_id"))


class SuppressionForm(forms.ModelForm):
    address = forms.CharField(
        help_text="The e-mail address or phone number; only its SHA-256 hash is stored.", required=True
    )

    class Meta:
        model = Suppression
        fields = ["channel", "reason", "detail"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].initial = SuppressionReason.MANUAL


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses never sent to. Searching takes a whole address: it is hashed and looked up."""

    list_display = ["hash_start", "channel", "reason", "detail", "created_at"]
    list_filter = ["channel", "reason"]
    search_fields = ["address_hash"]
    search_help_text = "Type a whole e-mail address or phone number: it is hashed and looked up."
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description="address hash (SHA-256)", ordering="address_hash")
    def hash_start(self, suppression):
        return f"{suppression.address_hash[:16]}…"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SuppressionForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["channel", "address", "reason", "detail"]
        return ["channel", "address_hash", "reason", "detail", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["channel", "address_hash", "reason", "detail", "created_at"] if obj else []

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        hashes = {address_hash(channel="email", address=term)}
        if any(char.isdigit() for char in term):
            hashes.add(address_hash(channel="sms", address=term))
        return queryset.filter(address_hash__in=[*hashes, term.lower()]), False

    def save_model(self, request, obj, form, change):
        suppression, _ = services.suppression_add(
            channel=form.cleaned_data["channel"],
            address=form.cleaned_data["address"],
            reason=form.cleaned_data["reason"],
            detail=form.cleaned_data["detail"],
        )
        adopt(obj, suppression)

    def delete_model(self, request, obj):
        services.suppression_remove(suppression=obj)

    def delete_queryset(self, request, queryset):
        for suppression in queryset:
            services.suppression_remove(suppression=suppression)


@admin.register(PendingTouchpoint)
class PendingTouchpointAdmin(admin.ModelAdmin):
    """Touchpoints the workers have not reacted to yet; those that failed again and again
    stay here with their error until a person tries them again."""

    list_display = ["touchpoint_id", "queued_at", "attempts", "error", "claimed_until"]
    list_filter = [("error", admin.EmptyFieldListFilter)]
    actions = ["try_again"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("contacts.change_pendingtouchpoint")

    @admin.action(description="Try the selected touchpoints again now", permissions=["retry"])
    def try_again(self, request, queryset):
        count = services.touchpoints_retry(touchpoint_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} touchpoint(s) will be tried again now.")
