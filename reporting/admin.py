from django.contrib import admin

from common.admin_paging import EstimatedCountPaginator
from reporting.models import ActionRollup


@admin.register(ActionRollup)
class ActionRollupAdmin(admin.ModelAdmin):
    """The rollups, to look at: they are written only by the roll and the rebuild."""

    list_display = (
        "day", "category", "verb", "channel", "actor_kind", "actor_type", "actor_name", "campaign", "count",
    )  # fmt: skip
    list_filter = ("actor_kind", "category", "day")
    search_fields = ("actor_name", "verb", "campaign")
    date_hierarchy = "day"
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
