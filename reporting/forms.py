from datetime import timedelta

from django import forms
from django.utils import timezone

from ledger.models import ActorKind, Category
from reporting.periods import Period, PeriodError
from reporting.selectors import TREND_UNITS

PRESETS = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "12 months")]


class PeriodForm(forms.Form):
    """The period selector of the report pages: GET parameters start, end and unit."""

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.ChoiceField(
        required=False, choices=[(unit, f"per {unit}") for unit in TREND_UNITS], label="Trend"
    )

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - timedelta(days=29)
        try:
            data["period"] = Period(start=start, end=end)
        except PeriodError as error:
            self.add_error(error.field, error.message)
        if not data.get("unit"):
            days = (end - start).days + 1
            data["unit"] = "day" if days <= 92 else "week" if days <= 400 else "month"
        return data

    def selected_period(self) -> Period:
        if self.is_valid():
            return self.cleaned_data["period"]
        return Period.last_days(30)

    def selected_unit(self) -> str:
        return self.cleaned_data["unit"] if self.is_valid() else "day"


class ActionFilterForm(PeriodForm):
    category = forms.ChoiceField(required=False, choices=[("", "every category"), *Category.choices])
    actor_kind = forms.ChoiceField(
        required=False, choices=[("", "algorithmic and manual"), *ActorKind.choices]
    )
    verb = forms.CharField(required=False, max_length=64)
