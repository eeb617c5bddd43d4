"""The outbox with each message's delivery log, the e-mail templates and layouts with
their preview, the channels' sending rules, and audiences with their syncs."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from common.admin_saving import adopt
from contacts.models import Contact
from ledger.admin_origins import OriginFilter, origin_link
from messaging import services as email_services
from messaging.audiences import audience_sync
from messaging.email.rendering import RenderError
from messaging.models import (
    Audience,
    AudienceSync,
    DeliveryAttempt,
    EmailLayout,
    EmailTemplate,
    OutboxMessage,
    SendingRule,
)
from messaging.outbox import outbox_unknown_mark_sent, outbox_unknown_send_again


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


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["contact", "channel", "origin", "status", "attempts", "created_at", "sent_at", "error"]
    list_filter = ["status", "channel", OriginFilter]
    inlines = [DeliveryLog]
    list_select_related = ["contact"]
    search_fields = ["contact__email", "key"]
    show_full_result_count = False
    actions = ["send_again", "mark_sent"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        """Deciding about a message whose fate is unknown is a change to it."""
        return request.user.has_perm("messaging.change_outboxmessage")

    @admin.display(description="campaign")
    def origin(self, message):
        return origin_link(message)

    @admin.action(description="Send the selected unknown messages again", permissions=["decide"])
    def send_again(self, request, queryset):
        done = outbox_unknown_send_again(
            message_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now()
        )
        self._decided(request, queryset, done, "will be sent again")

    @admin.action(description="Mark the selected unknown messages as sent", permissions=["decide"])
    def mark_sent(self, request, queryset):
        done = outbox_unknown_mark_sent(
            message_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now()
        )
        self._decided(request, queryset, done, "marked as sent")

    def _decided(self, request, queryset, done: int, what: str) -> None:
        self.message_user(
            request, f"{done} message(s) {what}.", messages.SUCCESS if done else messages.WARNING
        )
        if done < len(queryset):
            self.message_user(
                request,
                f"{len(queryset) - done} left as they were: "
                "only messages whose fate is unknown are decided here.",
                messages.WARNING,
            )


# --- e-mail templates ----------------------------------------------------------------------


class _CheckedForm(forms.ModelForm):
    """Sandbox errors land on the field they are in, with their line."""

    check = None

    def clean(self):
        data = super().clean()
        candidate = self._meta.model(pk=self.instance.pk)
        for field in self._meta.fields:
            setattr(candidate, field, data.get(field, getattr(self.instance, field)))
        try:
            type(self).check(candidate)
        except email_services.EmailTemplateError as error:
            for field, message in error.errors:
                if field in self.fields and field not in self.errors:
                    self.add_error(field, message)
                elif field in self.fields:
                    self.errors[field].append(message)
                else:
                    self.add_error(None, message)
        return data


CODE = {"rows": 16, "cols": 100, "spellcheck": "false", "class": "template-code"}


class EmailTemplateForm(_CheckedForm):
    check = staticmethod(email_services.email_template_check)

    class Meta:
        model = EmailTemplate
        fields = ["name", "slug", "subject", "preheader", "layout", "html", "text"]
        widgets = {
            "subject": forms.TextInput(attrs={"size": 80, "class": "template-code"}),
            "preheader": forms.TextInput(attrs={"size": 80, "class": "template-code"}),
            "html": forms.Textarea(attrs=CODE),
            "text": forms.Textarea(attrs={**CODE, "rows": 8}),
        }
        help_texts = {
            "html": 'Personalise with {{ contact.first_name|default:"there" }}, {{ account.name }}, '
            "{{ campaign.name }}; {% if %} and {% for %} work. Links are tracked when sent.",
        }


class EmailLayoutForm(_CheckedForm):
    check = staticmethod(email_services.email_layout_check)

    class Meta:
        model = EmailLayout
        fields = ["name", "html"]
        widgets = {"html": forms.Textarea(attrs={**CODE, "rows": 22})}


@admin.register(EmailLayout)
class EmailLayoutAdmin(admin.ModelAdmin):
    form = EmailLayoutForm
    list_display = ["name", "updated_at"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in form.changed_data if field in ("name", "html")}
        saved = email_services.email_layout_save(
            layout=EmailLayout.objects.get(pk=obj.pk) if change else obj,
            data=data if change else {"name": obj.name, "html": obj.html},
        )
        adopt(obj, saved)


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    form = EmailTemplateForm
    list_display = ["name", "slug", "subject", "layout", "updated_at", "preview_link"]
    search_fields = ["name", "slug", "subject"]
    list_select_related = ["layout"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "layout"]}),
        ("Inbox", {"fields": ["subject", "preheader"]}),
        ("Body", {"fields": ["html", "text"]}),
    ]

    @admin.display(description="preview")
    def preview_link(self, template):
        return format_html(
            '<a href="{}">Preview</a>', reverse("admin:messaging_emailtemplate_preview", args=[template.pk])
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="messaging_emailtemplate_preview",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        data = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in email_services.TEMPLATE_FIELDS
        }
        if change:
            email_services.email_template_update(template=EmailTemplate.objects.get(pk=obj.pk), data=data)
            obj.refresh_from_db()
        else:
            data.pop("name", None)
            data.pop("subject", None)
            adopt(
                obj,
                email_services.email_template_create(
                    name=form.cleaned_data["name"], subject=form.cleaned_data["subject"], **data
                ),
            )

    def delete_model(self, request, obj):
        email_services.email_template_delete(template=obj)

    def preview_view(self, request, pk: int):
        """The template as a chosen contact would get it: inbox line, HTML and plain text; and a
        test e-mail to the person looking at it."""
        template = get_object_or_404(EmailTemplate.objects.select_related("layout"), pk=pk)
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        wanted = (request.POST.get("contact") or request.GET.get("contact") or "").strip()
        contact = _contact_by(wanted) if wanted else Contact.objects.order_by("pk").first()
        rendered, problem = None, ""
        if wanted and contact is None:
            problem = f"No contact with the e-mail or id “{wanted}”."
        elif contact is None:
            problem = "There are no contacts yet to preview with."
        else:
            try:
                rendered = email_services.email_template_preview(template=template, contact=contact)
            except RenderError as error:
                problem = str(error)
        if request.method == "POST" and rendered is not None:
            if not self.has_change_permission(request, template):
                raise PermissionDenied
            if not request.user.email:
                self.message_user(
                    request, "Your user has no e-mail address to send the test to.", messages.ERROR
                )
            else:
                try:
                    email_services.email_template_test_send(
                        template=template, contact=contact, to=request.user.email
                    )
                except email_services.TestSendFailed as error:
                    self.message_user(request, str(error), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        f"Test sent to {request.user.email}, as {contact.email} would get it.",
                        messages.SUCCESS,
                    )
            return redirect(f"{request.path}?contact={contact.pk}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": template,
            "title": f"Preview: {template.name}",
            "template": template,
            "contact": contact,
            "rendered": rendered,
            "problem": problem,
            "wanted": wanted,
            "suggestions": Contact.objects.exclude(first_name="").order_by("pk")[:12],
            "from_email": settings.DEFAULT_FROM_EMAIL,
            "can_send": self.has_change_permission(request, template),
        }
        return TemplateResponse(request, "admin/messaging/emailtemplate/preview.html", context)


def _contact_by(wanted: str) -> Contact | None:
    if wanted.isdigit():
        return Contact.objects.filter(pk=int(wanted)).first()
    return Contact.objects.filter(email__iexact=wanted).first()


@admin.register(SendingRule)
class SendingRuleAdmin(admin.ModelAdmin):
    list_display = ["channel", "cap", "quiet_hours"]
    fieldsets = [
        (None, {"fields": ["channel"]}),
        ("Frequency cap, across all campaigns", {"fields": [("cap_messages", "cap_days")]}),
        (
            "Quiet hours, in the contact's time zone",
            {
                "fields": [("quiet_start", "quiet_end")],
                "description": "A send held back waits; nothing is dropped.",
            },
        ),
    ]

    @admin.display(description="frequency cap")
    def cap(self, rule):
        return f"at most {rule.cap_messages} per {rule.cap_days} days" if rule.cap_messages else "none"

    @admin.display(description="quiet hours")
    def quiet_hours(self, rule):
        return f"{rule.quiet_start:%H:%M} to {rule.quiet_end:%H:%M}" if rule.quiet_start else "none"
