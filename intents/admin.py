from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from common.admin_saving import adopt
from intents import selectors, services
from intents.models import (
    BehaviourRule,
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
