from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from common.admin_saving import adopt
from intents import selectors, services
from intents.models import (
    BehaviourRule,
    DiscoveredTopic,
    Intent,
    IntentExample,
    IntentModel,
    IntentSignal,
    ScoringRule,
    TextRule,
)
from intents.scoring import lead_score_explain


@admin.register(Intent)
class IntentAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "group", "half_life_hours", "is_active", "example_count"]
    list_filter = ["group", "is_active"]
    list_editable = ["half_life_hours", "is_active"]
    search_fields = ["key", "name"]
    prepopulated_fields = {"key": ["name"]}

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(examples=Count("examples"))

    @admin.display(description="labelled examples", ordering="examples")
    def example_count(self, intent):
        return intent.examples


class IntentExampleForm(forms.ModelForm):
    class Meta:
        model = IntentExample
        fields = ["touchpoint", "intent", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].required = False
        self.fields["text"].help_text = "Empty: the touchpoint's own text."
        self.fields["intent"].empty_label = "None of our intents"

    def clean(self):
        data = super().clean()
        if not data.get("touchpoint") and not (data.get("text") or "").strip():
            raise forms.ValidationError("Give a touchpoint to label, or the text of an example.")
        return data


@admin.register(IntentExample)
class IntentExampleAdmin(admin.ModelAdmin):
    form = IntentExampleForm
    list_display = ["short_text", "intent", "source", "labelled_by", "labelled_at"]
    list_filter = ["intent", "source"]
    list_select_related = ["intent"]
    search_fields = ["text"]
    raw_id_fields = ["touchpoint"]
    show_full_result_count = False

    @admin.display(description="text")
    def short_text(self, example):
        return example.text[:100]

    def get_readonly_fields(self, request, obj=None):
        return ["touchpoint"] if obj else []

    def delete_model(self, request, obj):
        services.intent_example_delete_many(examples=[obj])

    def delete_queryset(self, request, queryset):
        services.intent_example_delete_many(examples=queryset.only("pk", "text"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        touchpoint = data.get("touchpoint")
        if change:
            example = IntentExample.objects.select_related("touchpoint").get(pk=obj.pk)
            adopt(
                obj,
                services.intent_example_relabel(example=example, intent=data["intent"], text=data["text"]),
            )
        elif touchpoint is not None:
            try:
                example = services.touchpoint_label(
                    touchpoint=touchpoint, intent=data["intent"], text=data["text"]
                )
            except ValueError as error:
                raise PermissionDenied(str(error)) from error
            adopt(obj, example)
        else:
            adopt(obj, services.intent_example_add(text=data["text"], intent=data["intent"]))


@admin.register(IntentModel)
class IntentModelAdmin(admin.ModelAdmin):
    list_display = ["version", "status", "active_badge", "accuracy_pct", "macro_f1_pct", "oos_pct",
                    "threshold", "example_count", "training_seconds", "trained_at"]  # fmt: skip
    list_display_links = ["version"]
    change_list_template = "admin/intents/intentmodel/change_list.html"
    change_form_template = "admin/intents/intentmodel/change_form.html"
    fields = ["version", "status", "is_active", "threshold", "algorithm", "example_count",
              "training_seconds", "requested_by", "created_at", "trained_at", "activated_at", "error",
              "evaluation_report"]  # fmt: skip
    readonly_fields = [name for name in fields if name != "threshold"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The active version is working; activate another one before deleting it.
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_active)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("train/", view(require_POST(self.train_view)), name="intents_intentmodel_train"),
            path("rollback/", view(require_POST(self.rollback_view)), name="intents_intentmodel_rollback"),
            path(
                "<int:pk>/activate/",
                view(require_POST(self.activate_view)),
                name="intents_intentmodel_activate",
            ),
            *super().get_urls(),
        ]

    def _check(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied

    def train_view(self, request):
        self._check(request)
        model = services.intent_model_request()
        messages.success(
            request, f"Version {model.version} is training; its evaluation appears here when done."
        )
        return redirect(reverse("admin:intents_intentmodel_change", args=[model.pk]))

    def activate_view(self, request, pk):
        self._check(request)
        model = get_object_or_404(IntentModel.objects.defer("artifact"), pk=pk)
        try:
            services.intent_model_activate(model=model)
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Version {model.version} now recognises new touchpoints.")
        return redirect(reverse("admin:intents_intentmodel_change", args=[pk]))

    def rollback_view(self, request):
        self._check(request)
        try:
            model = services.intent_model_rollback()
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Rolled back: version {model.version} is active again.")
        return redirect(reverse("admin:intents_intentmodel_changelist"))

    def save_model(self, request, obj, form, change):
        if "threshold" in form.changed_data and obj.threshold is not None:
            services.intent_model_threshold_set(
                model=IntentModel.objects.defer("artifact").get(pk=obj.pk), threshold=obj.threshold
            )

    @admin.display(description="active", boolean=True, ordering="is_active")
    def active_badge(self, model):
        return model.is_active

    @staticmethod
    def _pct(value):
        return "-" if value is None else f"{value:.1%}"

    @admin.display(description="accuracy")
    def accuracy_pct(self, model):
        return self._pct(model.evaluation.get("accuracy"))

    @admin.display(description="macro-F1")
    def macro_f1_pct(self, model):
        return self._pct(model.evaluation.get("macro_f1"))

    @admin.display(description="out-of-scope recall")
    def oos_pct(self, model):
        return self._pct(model.evaluation.get("oos_recall"))

    @admin.display(description="evaluation on held-out examples")
    def evaluation_report(self, model):
        if not model.evaluation:
            return "Not trained yet." if model.status != IntentModel.Status.FAILED else "Training failed."
        evaluation = model.evaluation
        per_intent = sorted(evaluation.get("per_intent", {}).items(), key=lambda item: item[1]["f1"])
        return mark_safe(  # noqa: S308 - rendered by a template that escapes every value
            render_to_string(
                "intents/evaluation.html",
                {
                    "evaluation": evaluation,
                    "per_intent": [
                        {
                            "intent": key,
                            **scores,
                            "precision_pct": round(scores["precision"] * 100),
                            "recall_pct": round(scores["recall"] * 100),
                        }
                        for key, scores in per_intent
                    ],
                },
            )
        )


class RuleAdmin(admin.ModelAdmin):
    list_select_related = ["intent"]
    list_filter = ["intent", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["name"]


@admin.register(BehaviourRule)
class BehaviourRuleAdmin(RuleAdmin):
    list_display = ["name", "intent", "kind", "conditions", "confidence", "is_active"]


@admin.register(TextRule)
class TextRuleAdmin(RuleAdmin):
    list_display = ["name", "intent", "phrase_list", "confidence", "is_active"]

    @admin.display(description="phrases")
    def phrase_list(self, rule):
        return ", ".join(line.strip() for line in rule.phrases.splitlines() if line.strip())


@admin.register(ScoringRule)
class ScoringRuleAdmin(RuleAdmin):
    list_display = ["name", "kind", "points", "touchpoint_kind", "conditions", "half_life_hours", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(IntentSignal)
class IntentSignalAdmin(admin.ModelAdmin):
    list_display = ["contact", "intent", "score_now", "score", "updated_at"]
    list_filter = ["intent"]
    raw_id_fields = ["contact", "last_touchpoint"]
    show_full_result_count = False

    def get_queryset(self, request):
        return selectors.intent_signal_list().select_related("contact")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="score now", ordering="current_score")
    def score_now(self, signal):
        return f"{signal.current_score:.2f}"


class TouchpointIntentsAdmin:
    """The touchpoint admin's part from intents (see mops/admin.py): what was recognised in
    it and why, and a way to label it."""

    intents_fields = ("recognition_explained", "label")

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), *self.intents_fields]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.intents_fields]

    @admin.display(description="why this intent")
    def recognition_explained(self, touchpoint):
        recognition = getattr(touchpoint, "recognition", None) if touchpoint.pk else None
        if recognition is None:
            return "Not recognised yet."
        return format_html(
            '<span id="recognition" data-method="{}">{}</span>',
            recognition.method,
            recognition.explanation or recognition.get_method_display(),
        )

    @admin.display(description="label")
    def label(self, touchpoint):
        if not touchpoint.pk:
            return "-"
        example = IntentExample.objects.filter(touchpoint=touchpoint).select_related("intent").first()
        add = reverse("admin:intents_intentexample_add") + f"?touchpoint={touchpoint.pk}"
        if example is None:
            return format_html(
                '<a class="button" id="label-touchpoint" href="{}">Label this touchpoint</a>', add
            )
        return format_html(
            '{} by {} · <a id="label-touchpoint" href="{}">change</a>',
            example.intent or "none of our intents",
            example.labelled_by,
            reverse("admin:intents_intentexample_change", args=[example.pk]),
        )


class IntentSignalInline(admin.TabularInline):
    """A contact's intents, strongest first, as they stand now."""

    model = IntentSignal
    fields = ["intent", "strength", "score_now", "updated_at", "last_touchpoint"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Intents, decayed to now"

    def get_queryset(self, request):
        return selectors.intent_signal_list()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="score now")
    def score_now(self, signal):
        return f"{signal.current_score:.2f}"

    @admin.display(description="")
    def strength(self, signal):
        return format_html(
            '<span class="intent-strength"><span style="width: {}%"></span></span>',
            round(signal.current_score * 100),
        )


class ContactIntentsAdmin:
    """The contact admin's part from intents (see mops/admin.py): the contact's intents,
    and how its lead score is built."""

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), IntentSignalInline]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "score_explained"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [*fieldsets, ("How the score is built", {"fields": ["score_explained"]})] if obj else fieldsets

    @admin.display(description="score")
    def score_explained(self, contact):
        lines = lead_score_explain(contact=contact)
        if not lines:
            return "No scoring rule applies to this contact."
        return mark_safe(  # noqa: S308 - rendered by a template that escapes every value
            render_to_string(
                "intents/score_explained.html", {"lines": lines, "total": sum(x["points"] for x in lines)}
            )
        )

    class Media:
        css = {"all": ["intents/intents.css"]}


class TopicNameForm(forms.Form):
    name = forms.CharField(
        max_length=100, required=False, label="Name of the new intent", help_text="e.g. Refund request"
    )
    intent = forms.ModelChoiceField(
        queryset=Intent.objects.filter(is_active=True).order_by("name"),
        required=False,
        label="or merge into",
        empty_label="— a new intent —",
    )
    retrain = forms.BooleanField(required=False, label="Train a new model version with these examples now")

    def clean(self):
        data = super().clean()
        name, intent = (data.get("name") or "").strip(), data.get("intent")
        if not name and intent is None:
            raise forms.ValidationError(
                "Give the new intent a name, or choose an intent to merge the topic into."
            )
        if name and intent is not None:
            raise forms.ValidationError(
                "Give a name for a new intent, or choose an intent to merge into: not both."
            )
        return data


TREND_DAYS = 14
PAGE_TREND_DAYS = 30


def _trend_bars(counts: list[int], *, days_label: str) -> str:
    """A row of bars, one per day, as tall as that day's count (in words for readers)."""
    top = max(counts) or 1
    total = sum(counts)
    return format_html(
        '<span class="topic-trend" role="img" aria-label="{} texts over {}">{}</span>',
        total,
        days_label,
        mark_safe(  # noqa: S308 - numbers only
            "".join(
                f'<span style="height: {max(2, round(count / top * 100))}%" title="{count}"'
                f"{' class=zero' if not count else ''}></span>"
                for count in counts
            )
        ),
    )


@admin.register(DiscoveredTopic)
class DiscoveredTopicAdmin(admin.ModelAdmin):
    """Topics among the texts no intent was recognised in, for a person to name or dismiss."""

    list_display = ["topic", "state", "size", "contacts", "trend", "first_seen"]
    actions = None  # decisions are taken on a topic's page, one at a time
    list_display_links = None
    list_filter = ["status"]
    search_fields = ["title"]
    list_select_related = ["intent"]
    change_list_template = "admin/intents/discoveredtopic/change_list.html"
    change_form_template = "admin/intents/discoveredtopic/change_form.html"
    fields: list[str] = []

    class Media:
        css = {"all": ["intents/intents.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).defer("centroid")

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "discover/", view(require_POST(self.discover_view)), name="intents_discoveredtopic_discover"
            ),
            path("<int:pk>/name/", view(require_POST(self.name_view)), name="intents_discoveredtopic_name"),
            path(
                "<int:pk>/dismiss/",
                view(require_POST(self.dismiss_view)),
                name="intents_discoveredtopic_dismiss",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "can_decide": self.has_change_permission(request),
            "title": "Topics in what people wrote that no intent covers",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)

    @admin.display(description="topic", ordering="title")
    def topic(self, topic):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:intents_discoveredtopic_change", args=[topic.pk]),
            topic.title,
        )

    @admin.display(description="contacts", ordering="contact_count")
    def contacts(self, topic):
        return topic.contact_count

    @admin.display(description="first seen", ordering="first_seen_at")
    def first_seen(self, topic):
        return date_format(timezone.localtime(topic.first_seen_at), "j M")

    @admin.display(description="status", ordering="status")
    def state(self, topic):
        if topic.status == DiscoveredTopic.Status.NAMED and topic.intent is not None:
            return format_html("Named: {}", topic.intent.name)
        return topic.get_status_display()

    @admin.display(description=f"last {TREND_DAYS} days")
    def trend(self, topic):
        counts = getattr(topic, "trend_counts", None)
        if counts is None:
            counts = selectors.topic_trends(topic_ids=[topic.pk], days=TREND_DAYS)[topic.pk]
        return _trend_bars(counts, days_label=f"the last {TREND_DAYS} days")

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # One query for the trends of every row shown, kept on the rows themselves.
        shown = list(changelist.result_list)
        trends = selectors.topic_trends(topic_ids=[topic.pk for topic in shown], days=TREND_DAYS)
        for topic in shown:
            topic.trend_counts = trends[topic.pk]
        return changelist

    def change_view(self, request, object_id, form_url="", extra_context=None):
        topic = get_object_or_404(DiscoveredTopic.objects.select_related("intent"), pk=object_id)
        trend = selectors.topic_trends(topic_ids=[topic.pk], days=PAGE_TREND_DAYS)[topic.pk]
        today = timezone.localdate()
        extra = {
            "topic": topic,
            "trend": _trend_bars(trend, days_label=f"the last {PAGE_TREND_DAYS} days"),
            "trend_total": sum(trend),
            "trend_first": today - timedelta(days=PAGE_TREND_DAYS - 1),
            "trend_days": PAGE_TREND_DAYS,
            "representatives": selectors.topic_representatives(topic=topic, limit=8),
            "contacts": selectors.topic_contacts(topic=topic, limit=25),
            "name_form": TopicNameForm(),
            "can_decide": self.has_change_permission(request, topic),
            "title": topic.title,
            "subtitle": None,
        }
        return super().change_view(
            request, object_id, form_url, extra_context={**extra, **(extra_context or {})}
        )

    def _topic_for(self, request, pk) -> DiscoveredTopic:
        topic = get_object_or_404(DiscoveredTopic, pk=pk)
        if not self.has_change_permission(request, topic):
            raise PermissionDenied
        return topic

    def _back(self, pk):
        return redirect(reverse("admin:intents_discoveredtopic_change", args=[pk]))

    def discover_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        from intents.tasks import topics_discover_task

        topics_discover_task.delay()
        messages.success(
            request, "Discovery is running in the background; new topics appear here when it is done."
        )
        return redirect(reverse("admin:intents_discoveredtopic_changelist"))

    def name_view(self, request, pk):
        topic = self._topic_for(request, pk)
        form = TopicNameForm(request.POST)
        if not form.is_valid():
            for error in form.non_field_errors() or [e for errors in form.errors.values() for e in errors]:
                messages.error(request, error)
            return self._back(pk)
        data = form.cleaned_data
        try:
            named = services.topic_name(
                topic=topic, name=data.get("name") or "", intent=data.get("intent"), retrain=data["retrain"]
            )
        except ValueError as error:
            messages.error(request, str(error))
            return self._back(pk)
        what = "the new intent" if named.created else "the intent"
        messages.success(
            request,
            f"The topic is now {what} “{named.intent.name}”, with {named.examples} examples from its texts.",
        )
        if named.model is not None:
            messages.info(request, f"Version {named.model.version} is training with them.")
            return redirect(reverse("admin:intents_intentmodel_change", args=[named.model.pk]))
        return self._back(pk)

    def dismiss_view(self, request, pk):
        topic = self._topic_for(request, pk)
        try:
            services.topic_dismiss(topic=topic)
        except ValueError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, f"“{topic.title}” is dismissed; new texts like these will not bring it back."
            )
        return redirect(reverse("admin:intents_discoveredtopic_changelist"))
