import json
import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from campaigns import journey_graph, journey_svg, services
from campaigns.editor import step_options, step_type_names, steps_described
from campaigns.journey_svg import MESSAGE_STATUSES
from campaigns.models import Campaign, Enrollment, StepRun, Trigger
from campaigns.origins import ORIGIN_TYPE
from campaigns.selectors import (
    BACKTEST_MAX_DAYS,
    campaign_backtest,
    campaign_placement,
    campaign_stats,
    campaign_unknown_messages,
)
from campaigns.steps import step_types
from campaigns.triggers import trigger_describe, trigger_kind_choices
from common.admin_saving import adopt
from messaging.models import OutboxMessage
from messaging.outbox import outbox_unknown_mark_sent, outbox_unknown_send_again

UNKNOWN_SHOWN = 50  # messages of unknown fate listed on the campaign's page


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
            + ", ".join(step_types())
            + ". A step goes on to its “next”, else to the one below it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "steps" in self.fields:  # a person who may only view the campaign gets no fields
            self.fields["steps"].required = False
        for name in ("steps", "entry_filter", "goal"):
            if name in self.fields:
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


class SimulateForm(forms.Form):
    emails = forms.CharField(
        label="Contacts", required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="E-mail addresses, separated by spaces, commas or new lines.",
    )  # fmt: skip
    sample = forms.IntegerField(
        label="Or a sample of", required=False, min_value=1, max_value=200,
        help_text="random contacts among those the entry filter lets in",
    )  # fmt: skip
    draft = forms.BooleanField(label="Simulate the draft steps (not yet published)", required=False)

    def clean(self):
        data = super().clean()
        data["emails"] = [address for address in re.split(r"[\s,;]+", data.get("emails") or "") if address]
        if not data["emails"] and not data.get("sample"):
            raise forms.ValidationError("Name some contacts by e-mail, or ask for a sample.")
        return data


class BacktestForm(forms.Form):
    days = forms.IntegerField(
        label="Over the last", min_value=1, max_value=BACKTEST_MAX_DAYS, initial=30,
        widget=forms.NumberInput(attrs={"style": "width: 5em"}),
    )  # fmt: skip


class TriggerForm(forms.ModelForm):
    """A trigger is checked as the API checks it, with each error at its field."""

    class Meta:
        model = Trigger
        fields = [
            "kind", "touchpoint_kinds", "touchpoint_filter", "segment", "field", "value", "intent",
            "min_confidence", "offset_days", "time_of_day", "weekdays",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"] = forms.ChoiceField(choices=[("", "---------"), *trigger_kind_choices()])

    def clean(self):
        data = super().clean()
        if data.get("DELETE") or not data.get("kind"):
            return data
        spec = {name: data.get(name) for name in self.Meta.fields}
        spec["segment"] = data["segment"].slug if data.get("segment") else None
        spec["offset_days"] = data.get("offset_days") or 0
        try:
            (built,) = services.triggers_check([spec])
        except services.CampaignError as error:
            for path, message in error.errors:
                name = path.split(".", 1)[1] if "." in path else None
                self.add_error(name if name in self.fields else None, message)
            return data
        if self.instance.pk is None:  # from now on: what happened before enrolls nobody
            self.instance.last_event_id, self.instance.last_run_at = built.last_event_id, built.last_run_at
        self.instance.time_of_day = built.time_of_day
        return data


class TriggerInline(admin.StackedInline):
    model = Trigger
    form = TriggerForm
    extra = 0
    fieldsets = [
        (None, {"fields": ["kind"]}),
        ("Touchpoint, date or segment", {"fields": [("touchpoint_kinds", "touchpoint_filter"), "segment"]}),
        ("Field, intent, date or schedule", {"fields": [("field", "value"), ("intent", "min_confidence"),
                                                         ("offset_days", "time_of_day", "weekdays")]}),
    ]  # fmt: skip
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
    readonly_fields = ["journey", "published", "inside", "unknown_messages"]
    actions = ["publish"]
    fieldsets = [
        (None, {"fields": ["name", "description", "status", "priority", "published"]}),
        ("Who enters", {"fields": ["reentry", "reentry_days", "entry_filter", "goal", "enroll_emails"]}),
        ("Journey", {"fields": ["journey", "unknown_messages", "inside", "steps"]}),
    ]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/migrate/", view(require_POST(self.migrate_view)), name="campaigns_campaign_migrate"
            ),
            path("<int:pk>/simulate/", view(self.simulate_view), name="campaigns_campaign_simulate"),
            path(
                "<int:pk>/unknown/send-again/",
                view(require_POST(self.send_again_view)),
                name="campaigns_campaign_unknown_send_again",
            ),
            path(
                "<int:pk>/unknown/mark-sent/",
                view(require_POST(self.mark_sent_view)),
                name="campaigns_campaign_unknown_mark_sent",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="contacts inside")
    def inside(self, campaign):
        """Where the contacts inside are, by version and step, and a button that moves
        those on older versions to the published one."""
        if campaign is None or not campaign.pk or not campaign.version_id:
            return "Nobody yet: the campaign is not published."
        placement = campaign_placement(campaign=campaign)
        if not placement["inside"]:
            return "Nobody is inside now."
        rows = format_html_join(
            "",
            "<tr><td>v{}</td><td><code>{}</code></td><td class='num'>{}</td><td>{}</td></tr>",
            (
                (
                    row["version"], row["step"] or "(entering)", row["contacts"],
                    "published version" if row["on_published"]
                    else "can move: the published version has this step" if row["step_in_published"]
                    else "stays on its version: this step is gone",
                )
                for row in placement["inside"]
            ),
        )  # fmt: skip
        button = ""
        if placement["movable"]:
            button = format_html(
                '<button type="submit" class="button" formaction="{}" formnovalidate name="move">'
                "Move {} contacts to v{}</button>",
                reverse("admin:campaigns_campaign_migrate", args=[campaign.pk]),
                placement["movable"],
                placement["version"],
            )
        return format_html(
            '<table class="placement"><thead><tr><th>version</th><th>step</th><th>contacts</th><th></th>'
            "</tr></thead><tbody>{}</tbody></table>{}",
            rows,
            button,
        )

    @admin.display(description="messages of unknown fate")
    def unknown_messages(self, campaign):
        """The campaign's messages whose worker stopped while the provider may have been taking
        them: for a person to send again or mark as sent (each decision their action in the ledger)."""
        if campaign is None or not campaign.pk:
            return "None."
        unknown = campaign_unknown_messages(campaign=campaign, limit=UNKNOWN_SHOWN)
        if not unknown:
            return "None: the fate of every message is known."
        outbox = (
            reverse("admin:messaging_outboxmessage_changelist")
            + f"?status__exact={OutboxMessage.Status.UNKNOWN}&origin={ORIGIN_TYPE}:{campaign.pk}"
        )

        def written(moment) -> str:
            return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"

        may_decide = getattr(campaign, "may_decide", False)

        def pick(row) -> str:
            if not may_decide:
                return ""
            return format_html(
                "<input type='checkbox' name='unknown_message' value='{}' checked aria-label='{}'>",
                row["id"], f"decide about the message to {row['email']}",
            )  # fmt: skip

        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><a href='{}'>{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td>"
            "<td><a href='{}'>log</a></td></tr>",
            (
                (
                    pick(row),
                    reverse("admin:contacts_contact_change", args=[row["contact_id"]]), row["email"],
                    row["step"] or "?", row["channel"], written(row["created_at"]),
                    reverse("admin:messaging_outboxmessage_change", args=[row["id"]]),
                )
                for row in unknown
            ),
        )  # fmt: skip
        more = "" if len(unknown) < UNKNOWN_SHOWN else f" (the first {UNKNOWN_SHOWN})"
        buttons = ""
        if may_decide:
            buttons = format_html(
                '<p><button type="submit" class="button" formaction="{}" formnovalidate name="send_again">'
                "Send the checked ones again</button> "
                '<button type="submit" class="button" formaction="{}" formnovalidate name="mark_sent">'
                "Mark the checked ones as sent</button></p>",
                reverse("admin:campaigns_campaign_unknown_send_again", args=[campaign.pk]),
                reverse("admin:campaigns_campaign_unknown_mark_sent", args=[campaign.pk]),
            )
        return format_html(
            '<div class="unknown-messages"><p>Their worker stopped while the provider may have been '
            "taking them: they may have been sent. Check the provider's log, then send them again or "
            'mark them as sent{}. <a href="{}">In the outbox</a>.</p>'
            '<table><thead><tr><th></th><th>contact</th><th>step</th><th>channel</th><th>written</th><th></th>'
            "</tr></thead><tbody>{}</tbody></table>{}</div>",
            more, outbox, rows, buttons,
        )  # fmt: skip

    def _may_decide(self, request, campaign) -> bool:
        """Deciding about a message is a change to it (as in the outbox admin)."""
        return self.has_change_permission(request, campaign) and request.user.has_perm(
            "messaging.change_outboxmessage"
        )

    def get_object(self, request, object_id, from_field=None):
        campaign = super().get_object(request, object_id, from_field)
        if campaign is not None:  # read-only fields are given the object alone
            campaign.may_decide = self._may_decide(request, campaign)
        return campaign

    def send_again_view(self, request, pk):
        return self._decide(request, pk, outbox_unknown_send_again, "will be sent again")

    def mark_sent_view(self, request, pk):
        return self._decide(request, pk, outbox_unknown_mark_sent, "marked as sent")

    def _decide(self, request, pk, decide, what: str):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self._may_decide(request, campaign):
            raise PermissionDenied
        chosen = [int(value) for value in request.POST.getlist("unknown_message") if value.isdigit()]
        ids = list(
            OutboxMessage.objects.filter(
                pk__in=chosen, origin_type=ORIGIN_TYPE, origin_id=campaign.pk
            ).values_list("pk", flat=True)
        )
        if not ids:
            messages.warning(request, "Check the messages to decide about first.")
        else:
            done = decide(message_ids=ids, now=timezone.now())
            messages.success(request, f"{done} message(s) {what}.")
            if done < len(ids):
                left = len(ids) - done
                messages.warning(request, f"{left} left as they were: their fate was already known.")
        return redirect(reverse("admin:campaigns_campaign_change", args=[pk]))

    def migrate_view(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        try:
            result = services.enrollments_migrate(campaign=campaign)
        except services.CampaignError as error:
            messages.error(request, str(error))
        else:
            stayed = sum(row["contacts"] for row in result["stayed"])
            told = f"; {stayed} stay on their version, their step is gone" if stayed else ""
            messages.success(request, f"{result['moved']} contacts moved to v{result['version']}{told}.")
        return redirect(reverse("admin:campaigns_campaign_change", args=[pk]))

    def simulate_view(self, request, pk):
        """Run the journey for some contacts, or a sample, with no effect."""
        campaign = get_object_or_404(Campaign.objects.select_related("version"), pk=pk)
        form = SimulateForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = services.campaign_simulate(
                    campaign=campaign, emails=form.cleaned_data["emails"], sample=form.cleaned_data["sample"],
                    draft=form.cleaned_data["draft"],
                )  # fmt: skip
            except services.CampaignError as error:
                form.add_error(None, str(error))
            else:
                for row in result["steps"]:
                    row["name"] = step_type_names().get(row["type"], row["type"])
        backtest_form = BacktestForm(request.GET if "days" in request.GET else None)
        backtest = None
        if backtest_form.is_valid():
            backtest = campaign_backtest(campaign=campaign, days=backtest_form.cleaned_data["days"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"Simulate “{campaign.name}”",
            "form": form,
            "result": result,
            "backtest_form": backtest_form,
            "backtest": backtest,
        }
        return TemplateResponse(request, "admin/campaigns/campaign/simulate.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["step_options"] = step_options(campaign=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

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
        """The published journey drawn as a flow a person reads, with each step's counts and
        how many of those who entered it reached the goal."""
        if campaign is None or not campaign.pk:
            return "Save the campaign to see its journey."
        stats = campaign_stats(campaign=campaign)
        if not stats["steps"]:
            return "No steps yet."
        steps = campaign.version.steps if campaign.version_id else campaign.steps
        goal_tree = campaign.version.goal if campaign.version_id else campaign.goal
        goal = None
        if stats["goal"] is not None:
            goal = {**stats["goal"], "sentence": _sentence(goal_tree)}
        graph = journey_svg.render(
            journey_graph.layout(steps),
            names=step_type_names(),
            details=steps_described(steps),
            counts={row["key"]: row for row in stats["steps"]},
            entry=_ways_in(campaign),
            goal=goal,
        )
        totals = ", ".join(f"{count} {status}" for status, count in stats["enrollments"].items() if count)
        by_status = stats["messages"]
        sent = ", ".join(f"{by_status[s]} {text}" for s, text in MESSAGE_STATUSES if by_status[s])
        if sent:
            totals = f"{totals or 'nobody enrolled yet'}; messages: {sent}"
        source = f"published v{stats['version']}" if stats["version"] else "draft, not published"
        if campaign.version_id and campaign.steps != campaign.version.steps:
            source += "; the steps below have changes not published yet"
        reached = ""
        if goal:
            share = f" ({100 * goal['reached'] / goal['entered']:.0f}%)" if goal["entered"] else ""
            reached = format_html(
                '<p class="journey-goal">Goal: {}. <strong>{} of the {}</strong> who entered '
                "reach it now{}.</p>",
                goal["sentence"], goal["reached"], goal["entered"], share,
            )  # fmt: skip
        return format_html(
            '<div class="journey"><p class="journey-source">{} — {}</p>{}'
            '<div class="journey-canvas">{}</div></div>',
            source, totals or "nobody enrolled yet", reached, graph,
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
                placement = campaign_placement(campaign=campaign)
                movable = (
                    f"; {placement['movable']} contacts on older versions can move to it (open the campaign)"
                    if placement["movable"]
                    else ""
                )
                self.message_user(
                    request, f"{campaign.name}: version {version.number} published{movable}", messages.SUCCESS
                )


def _sentence(tree) -> str:
    from segments.conditions.explain import explain
    from segments.evaluation import parsed

    try:
        return explain(parsed(tree))
    except ValueError:
        return "(conditions no longer valid)"


def _ways_in(campaign: Campaign) -> list[str]:
    ways = [f"when: {trigger_describe(trigger)}" for trigger in campaign.triggers.select_related("segment")]
    ways.append("by hand or through the API")
    if campaign.entry_filter:
        sentence = _sentence(campaign.entry_filter)
        ways.append(f"only if {sentence[:1].lower()}{sentence[1:]}")
    return ways


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
