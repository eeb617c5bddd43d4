import json
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns import services
from campaigns.admin_channels import DeliveryLog
from campaigns.channels import services as email_services
from campaigns.channels.rendering import RenderError
from campaigns.engine.graph import STEP_TYPES
from campaigns.models import (
    Campaign,
    EmailLayout,
    EmailTemplate,
    Enrollment,
    OutboxMessage,
    StepRun,
    Trigger,
)
from campaigns.selectors import campaign_stats
from common.admin_saving import adopt
from contacts.models import Contact

STEP_TYPE_NAMES = {
    "wait": "Wait", "branch": "Branch", "random_split": "Random split", "send_email": "Send e-mail",
    "add_tag": "Add tag", "remove_tag": "Remove tag", "set_field": "Set field",
    "adjust_score": "Adjust score",
    "set_lifecycle_stage": "Set lifecycle stage", "exit": "Exit",
}  # fmt: skip


class IndentedJSONEncoder(json.JSONEncoder):
    """Steps and conditions shown one key per line: a journey is read before it is edited."""

    def __init__(self, *args, **kwargs):
        kwargs["indent"] = 2
        super().__init__(*args, **kwargs)


class CampaignAdminForm(forms.ModelForm):
    enroll_emails = forms.CharField(
        label="Enroll contacts",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="E-mail addresses of contacts to put into the published journey now.",
    )

    class Meta:
        model = Campaign
        fields = [
            "name", "description", "status", "priority", "reentry", "reentry_days", "entry_filter", "goal",
            "steps",
        ]  # fmt: skip
        widgets = {
            name: forms.Textarea(attrs={"rows": rows, "cols": 100, "spellcheck": "false"})
            for name, rows in (("entry_filter", 3), ("goal", 3), ("steps", 14))
        }
        help_texts = {
            "steps": 'A list of steps, each {"key": "...", "type": "...", ...}; types: '
            + ", ".join(STEP_TYPES)
            + ". A step goes on to its “next”, else to the one below it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["steps"].required = False
        for name in ("steps", "entry_filter", "goal"):
            self.fields[name].encoder = IndentedJSONEncoder

    def clean(self):
        data = super().clean()
        candidate = Campaign(**{name: data.get(name) for name in services.CAMPAIGN_FIELDS if name in data})
        candidate.steps = data.get("steps") or []
        try:
            services.campaign_check(candidate)
        except services.CampaignError as error:
            for path, message in error.errors:
                field = re.split(r"[.\[]", path, maxsplit=1)[0]
                self.add_error(field if field in self.fields else None, f"{path}: {message}")
        if data.get("status") == Campaign.Status.ACTIVE and not (
            self.instance.pk and self.instance.version_id
        ):
            self.add_error("status", "Publish the campaign to activate it.")
        emails = [address for address in re.split(r"[\s,;]+", data.get("enroll_emails", "")) if address]
        if emails and not (self.instance.pk and self.instance.version_id):
            self.add_error("enroll_emails", "Publish the campaign before enrolling contacts.")
        data["emails"] = emails
        return data


class TriggerInline(admin.TabularInline):
    model = Trigger
    extra = 0
    fields = ["kind", "touchpoint_kinds", "touchpoint_filter", "segment"]
    autocomplete_fields = ["segment"]
    formfield_overrides = {
        Trigger._meta.get_field("touchpoint_kinds").__class__: {
            "widget": forms.Textarea(attrs={"rows": 1, "cols": 40})
        }
    }


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignAdminForm
    inlines = [TriggerInline]
    list_display = ["name", "status", "priority", "published", "live", "updated_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    readonly_fields = ["journey", "published"]
    actions = ["publish"]
    fieldsets = [
        (None, {"fields": ["name", "description", "status", "priority", "published"]}),
        ("Who enters", {"fields": ["reentry", "reentry_days", "entry_filter", "goal", "enroll_emails"]}),
        ("Journey", {"fields": ["journey", "steps"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("version")
            .annotate(live_count=Count("enrollments", filter=services.live_filter()))
        )

    @admin.display(description="version")
    def published(self, campaign):
        if not campaign.version_id:
            return "not published"
        return f"v{campaign.version.number} of {campaign.version.published_at:%Y-%m-%d %H:%M}"

    @admin.display(description="in the journey", ordering="live_count")
    def live(self, campaign):
        return campaign.live_count

    @admin.display(description="the journey")
    def journey(self, campaign):
        """The published journey as a flow a person reads, with each step's counts."""
        if campaign is None or not campaign.pk:
            return "Save the campaign to see its journey."
        stats = campaign_stats(campaign=campaign)
        if not stats["steps"]:
            return "No steps yet."
        steps = {
            step["key"]: step for step in (campaign.version.steps if campaign.version_id else campaign.steps)
        }
        cards = format_html_join(
            "",
            '<li class="journey-step journey-{}"><div class="journey-head">'
            '<span class="journey-type">{}</span> <code>{}</code></div><div class="journey-what">{}</div>'
            '<div class="journey-counts">{} entered · {} waiting · {} done · {} failed</div>{}</li>',
            (
                (
                    row["type"],
                    STEP_TYPE_NAMES.get(row["type"], row["type"]),
                    row["key"],
                    describe(steps[row["key"]]),
                    row["entered"],
                    row["waiting"],
                    row["completed"],
                    row["failed"],
                    exits(steps[row["key"]]),
                )
                for row in stats["steps"]
            ),
        )
        totals = ", ".join(f"{count} {status}" for status, count in stats["enrollments"].items() if count)
        source = f"published v{stats['version']}" if stats["version"] else "draft, not published"
        return format_html(
            '<div class="journey"><p class="journey-source">{} — {}</p>'
            '<ol class="journey-steps">{}</ol></div>',
            source, totals or "nobody enrolled yet", cards,
        )  # fmt: skip

    def save_model(self, request, obj, form, change):
        data = {
            field: form.cleaned_data[field]
            for field in form.changed_data
            if field in services.CAMPAIGN_FIELDS
        }
        if change:
            services.campaign_update(campaign=Campaign.objects.get(pk=obj.pk), data=data)
            obj.refresh_from_db()
        else:
            data.pop("name", None)
            adopt(obj, services.campaign_create(name=form.cleaned_data["name"], **data))
        if form.cleaned_data.get("emails"):
            result = services.campaign_enroll(campaign=obj, emails=form.cleaned_data["emails"])
            self.message_user(
                request,
                f"{len(result['enrolled'])} enrolled, {len(result['not_enrolled'])} kept out by the "
                f"filter or re-entry policy, {len(result['unknown_emails'])} unknown addresses",
                messages.SUCCESS if result["enrolled"] else messages.WARNING,
            )

    @admin.action(description="Publish the selected campaigns (new contacts enter the new version)")
    def publish(self, request, queryset):
        for campaign in queryset:
            try:
                version = services.campaign_publish(campaign=campaign)
            except services.CampaignError as error:
                self.message_user(request, f"{campaign.name}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{campaign.name}: version {version.number} published", messages.SUCCESS
                )


def describe(step: dict) -> str:
    match step["type"]:
        case "wait":
            parts = [f"{step[unit]} {unit}" for unit in ("days", "hours", "minutes") if step.get(unit)]
            return "for " + ", ".join(parts)
        case "branch":
            from segments.conditions.explain import explain
            from segments.evaluation import parsed

            try:
                return f"if {explain(parsed(step['conditions']))}"
            except ValueError:
                return "(conditions no longer valid)"
        case "random_split":
            return " / ".join(f"{path['percent']}%" for path in step["paths"])
        case "send_email":
            return f"template {step['template']}" if step.get("template") else f"“{step['subject']}”"
        case "add_tag" | "remove_tag":
            return ", ".join(step["tags"])
        case "set_field":
            return f"{step['field']} = {step['value']}"
        case "adjust_score":
            return f"{step['by']:+d}"
        case "set_lifecycle_stage":
            return step["stage"]
    return ""


def exits(step: dict):
    if step["type"] == "branch":
        pairs = [("yes", step.get("yes") or "end"), ("no", step.get("no") or "end")]
    elif step["type"] == "random_split":
        pairs = [(f"{path['percent']}%", path.get("next") or "end") for path in step["paths"]]
    elif "next" in step:
        pairs = [("then", step["next"] or "end")]
    else:
        return ""
    return format_html(
        '<div class="journey-exits">{}</div>',
        format_html_join(" ", '<span class="journey-out">{} → <code>{}</code></span>', pairs),
    )


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = [
        "contact",
        "campaign",
        "version",
        "step_key",
        "status",
        "next_run_at",
        "entered_at",
        "error",
    ]
    list_filter = ["status", "campaign"]
    list_select_related = ["contact", "campaign", "version"]
    actions = ["retry"]
    search_fields = ["contact__email"]
    raw_id_fields = ["contact"]
    show_full_result_count = False
    readonly_fields = [field.name for field in Enrollment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("campaigns.change_campaign")

    @admin.action(
        description="Retry the selected failed enrollments from the step that failed", permissions=["retry"]
    )
    def retry(self, request, queryset):
        result = services.enrollments_retry(enrollment_ids=queryset.values_list("pk", flat=True))
        if result["retried"]:
            self.message_user(request, f"{len(result['retried'])} enrollments start again", messages.SUCCESS)
        if result["not_retried"]:
            self.message_user(
                request,
                f"{len(result['not_retried'])} not retried: not failed, or back in the campaign",
                messages.WARNING,
            )

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StepRun)
class StepRunAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "step_key", "visit", "outcome", "started_at", "finished_at"]
    list_filter = ["outcome", "campaign"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["contact", "channel", "campaign", "status", "attempts", "created_at", "sent_at", "error"]
    list_filter = ["status", "channel", "campaign"]
    inlines = [DeliveryLog]
    list_select_related = ["contact", "campaign"]
    search_fields = ["contact__email", "key"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
            '<a href="{}">Preview</a>', reverse("admin:campaigns_emailtemplate_preview", args=[template.pk])
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="campaigns_emailtemplate_preview",
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
                email_services.email_template_test_send(
                    template=template, contact=contact, to=request.user.email
                )
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
        return TemplateResponse(request, "admin/campaigns/emailtemplate/preview.html", context)


def _contact_by(wanted: str) -> Contact | None:
    if wanted.isdigit():
        return Contact.objects.filter(pk=int(wanted)).first()
    return Contact.objects.filter(email__iexact=wanted).first()
