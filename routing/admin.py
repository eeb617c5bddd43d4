"""Teams and their members, routing rules, lead assignments and tasks for people."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count

from common.admin_saving import adopt
from ledger.admin_origins import OriginFilter, origin_link
from routing.models import LeadAssignment, RoutingRule, Task, Team, TeamMember


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 1
    fields = ["user", "capacity", "active", "open_leads", "last_assigned_at"]
    readonly_fields = ["open_leads", "last_assigned_at"]
    autocomplete_fields = ["user"]

    @admin.display(description="open leads")
    def open_leads(self, member):
        if not member.pk:
            return "-"
        return LeadAssignment.objects.filter(
            owner_id=member.user_id, status=LeadAssignment.Status.OPEN
        ).count()


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    fields = ["position", "name", "countries", "active"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead", "response_minutes", "members_count"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["lead"]
    search_fields = ["name", "slug"]
    inlines = [TeamMemberInline, RoutingRuleInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lead").annotate(members_count=Count("members"))

    @admin.display(description="members", ordering="members_count")
    def members_count(self, team):
        return team.members_count


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Tried in order after the account's owner: the first whose countries include the
    contact's takes the lead, shared in turn among its team."""

    list_display = ["position", "name", "countries", "team", "active"]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    list_select_related = ["team"]


@admin.register(LeadAssignment)
class LeadAssignmentAdmin(admin.ModelAdmin):
    list_display = ["contact", "owner", "team", "rule", "status", "assigned_at", "due_at", "responded_at"]
    list_filter = ["status", "team"]
    list_select_related = ["contact", "owner", "team"]
    search_fields = ["contact__email"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Work for people. Completing a task is a person's (manual) action in the ledger; a
    lead's first-response task also stops its speed-to-lead clock."""

    list_display = ["title", "contact", "assignee", "due_at", "overdue", "status", "origin"]
    list_filter = ["status", OriginFilter]
    list_select_related = ["contact", "assignee"]
    search_fields = ["title", "contact__email"]
    raw_id_fields = ["contact"]
    autocomplete_fields = ["assignee"]
    actions = ["complete"]
    show_full_result_count = False
    fields = ["title", "contact", "assignee", "due_at", "status", "origin", "completed_at"]
    readonly_fields = ["status", "origin", "completed_at"]

    @admin.display(description="campaign")
    def origin(self, task):
        return origin_link(task)

    @admin.display(description="late", boolean=True)
    def overdue(self, task):
        from django.utils import timezone

        return task.status == Task.Status.OPEN and task.due_at is not None and task.due_at < timezone.now()

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        from django.utils import timezone

        from routing.services import task_create

        adopt(
            obj,
            task_create(
                title=obj.title, contact=obj.contact, assignee_id=obj.assignee_id, due_at=obj.due_at,
                now=timezone.now(),
            ),
        )  # fmt: skip

    @admin.action(description="Mark the selected tasks as done")
    def complete(self, request, queryset):
        from routing.services import task_complete

        done = 0
        for task in queryset.filter(status=Task.Status.OPEN):
            task_complete(task=task)
            done += 1
        self.message_user(request, f"{done} tasks done.", messages.SUCCESS)
