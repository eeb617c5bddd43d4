from django.contrib import admin

from common.admin_paging import EstimatedCountPaginator
from ledger.models import Action


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
