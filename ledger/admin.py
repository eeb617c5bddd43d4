from django import forms
from django.contrib import admin, messages

from common.admin_paging import EstimatedCountPaginator
from common.admin_saving import adopt
from ledger.api_keys import api_key_create, api_key_revoke
from ledger.models import Action, ApiKey, Integration


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    """The ledger is append-only: everyone with access may read it, nobody edits it."""

    list_display = ["occurred_at", "actor_kind", "actor_type", "actor_name", "category", "verb", "contact_id"]
    list_filter = ["actor_kind", "category", "actor_type"]
    search_fields = ["=actor_name", "=verb"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ApiKeyCreateForm(forms.ModelForm):
    integration_name = forms.CharField(max_length=100, help_text="The system that will use the key.")
    scope_list = forms.MultipleChoiceField(
        label="Scopes",
        choices=[(scope, scope) for scope in ApiKey.SCOPES],
        initial=list(ApiKey.SCOPES),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ApiKey
        fields = []


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here or by `create_api_key`; the key is shown once, then only its hash
    is kept. Revoking is the only change a key ever gets."""

    list_display = ["prefix", "integration", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["integration"]
    readonly_fields = [
        "prefix",
        "integration",
        "scopes",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["integration_name", "scope_list"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        api_key, raw_key = api_key_create(
            integration_name=form.cleaned_data["integration_name"], scopes=form.cleaned_data["scope_list"]
        )
        adopt(obj, api_key)
        messages.warning(request, f"The new key, shown only this once: {raw_key}")

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        messages.success(request, f"{queryset.count()} key(s) revoked.")
