"""Reads of the intents app. Signal scores are decayed here, at read time."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Power
from django.utils import timezone

from intents.models import IntentModel, IntentSignal


def intent_signal_list(
    *, contact_id: int | None = None, at: datetime | None = None
) -> QuerySet[IntentSignal]:
    """Signals with `current_score`: the stored score decayed to `at` (now by default)."""
    at = at or timezone.now()
    hours = RawSQL(
        "GREATEST(0, extract(epoch FROM %s::timestamptz - intents_intentsignal.updated_at)) / 3600.0", (at,)
    )
    qs = (
        IntentSignal.objects.select_related("intent")
        .annotate(
            current_score=F("score")
            * Power(Value(0.5), hours / F("intent__half_life_hours"), output_field=FloatField())
        )
        .order_by("-current_score")
    )
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    return qs


def intent_model_active() -> IntentModel | None:
    return IntentModel.objects.filter(is_active=True).defer("artifact").first()


def intent_model_list() -> QuerySet[IntentModel]:
    return IntentModel.objects.defer("artifact").order_by("-version")


def intents_detected_since(*, since) -> list[tuple[str, int]]:
    """(intent name, touchpoints showing it) since a moment, most frequent first."""
    from django.db.models import Count

    from intents.models import TouchpointIntent

    rows = (
        TouchpointIntent.objects.filter(intent__isnull=False, touchpoint__occurred_at__gte=since)
        .values("intent__name")
        .annotate(count=Count("id"))
        .order_by("-count", "intent__name")
    )
    return [(row["intent__name"], row["count"]) for row in rows]
