"""Admin for the channels: the delivery log of each message, audiences and their syncs,
and the privacy actions on contacts (export, erase)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from campaigns.audiences import audience_sync
from campaigns.models import Audience, AudienceSync, DeliveryAttempt
from campaigns.privacy import contact_erase, contact_export
from contacts.models import Contact


class DeliveryLog(admin.TabularInline):
    """Each attempt at delivering the message: answer, time taken, error."""

    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "attempted_at", "ok", "status_code", "duration_ms", "error", "provider_id"]
    readonly_fields = fields
    verbose_name = "delivery attempt"
    verbose_name_plural = "delivery log"

    def has_add_permission(self, request, obj=None):
        return False


class SyncHistory(admin.TabularInline):
    model = AudienceSync
    extra = 0
    can_delete = False
    fields = ["started_at", "status", "members", "excluded", "download", "actor_name", "error"]
    readonly_fields = fields
    ordering = ["-started_at"]
    verbose_name_plural = "syncs"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="file")
    def download(self, sync):
        return format_html('<a href="{}">{}</a>', sync.file.url, "download") if sync.file else "—"


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ["name", "segment", "kind", "every_hours", "last_synced_at", "last_members"]
    list_filter = ["kind"]
    search_fields = ["name"]
    fields = ["name", "segment", "kind", "url", "secret", "every_hours", "last_synced_at", "next_sync_at"]
    readonly_fields = ["last_synced_at", "next_sync_at"]
    inlines = [SyncHistory]
    actions = ["sync_now"]

    @admin.display(description="members last sent")
    def last_members(self, audience):
        sync = audience.syncs.filter(status=AudienceSync.Status.DONE).first()
        return sync.members if sync else "—"

    @admin.action(description="Sync the selected audiences now")
    def sync_now(self, request, queryset):
        for audience in queryset:
            try:
                sync = audience_sync(audience=audience)
            except Exception as error:
                self.message_user(request, f"{audience}: the sync failed: {error}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{audience}: {sync.members} sent, {sync.excluded} left out (suppressed or unsubscribed)",
            )


def _contact_admin_actions() -> None:
    """The privacy actions join the contacts' admin from here: contacts sits below campaigns
    and cannot reach the messages an erasure must clear."""

    @admin.action(description="Export personal data (JSON)", permissions=["view"])
    def export_personal_data(modeladmin, request, queryset):
        documents = [contact_export(contact=contact) for contact in queryset.order_by("pk")]
        body = documents[0] if len(documents) == 1 else documents
        response = HttpResponse(
            json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            content_type="application/json",
        )
        name = f"contact-{documents[0]['contact']['id']}" if len(documents) == 1 else "contacts"
        response["Content-Disposition"] = f'attachment; filename="{name}-personal-data.json"'
        return response

    @admin.action(description="Erase personal data", permissions=["delete"])
    def erase_personal_data(modeladmin, request, queryset):
        if request.POST.get("post") == "yes":
            reason = request.POST.get("reason", "")
            for contact in queryset:
                contact_erase(contact=contact, reason=reason)
            modeladmin.message_user(request, f"Erased the personal data of {queryset.count()} contact(s).")
            return None
        return TemplateResponse(
            request,
            "admin/campaigns/privacy/erase_confirm.html",
            {
                **modeladmin.admin_site.each_context(request),
                "contacts": list(queryset),
                "title": "Erase personal data",
            },
        )

    contact_admin = admin.site._registry[Contact]
    contact_admin.actions = [*contact_admin.actions, export_personal_data, erase_personal_data]


_contact_admin_actions()
