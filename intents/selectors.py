"""Reads of the intents app. Signal scores are decayed here, at read time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Count, F, FloatField, Max, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Power, TruncDate
from django.utils import timezone

from intents.models import DiscoveredTopic, IntentModel, IntentSignal, TopicText


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


def topic_list(*, status: str | None = None) -> QuerySet[DiscoveredTopic]:
    qs = DiscoveredTopic.objects.select_related("intent").defer("centroid")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-last_seen_at", "-size", "-id")


def topics_new_since(*, since: datetime, limit: int = 5) -> list[DiscoveredTopic]:
    """Proposed topics first seen since a moment, the largest first (the home page's)."""
    return list(
        DiscoveredTopic.objects.filter(status=DiscoveredTopic.Status.PROPOSED, first_seen_at__gte=since)
        .defer("centroid")
        .order_by("-size", "-id")[:limit]
    )


def topic_representatives(*, topic: DiscoveredTopic, limit: int = 5) -> list[str]:
    """The texts nearest the topic's centre."""
    return list(
        TopicText.objects.filter(topic=topic)
        .order_by("-similarity", "touchpoint_id")
        .values_list("touchpoint__text", flat=True)[:limit]
    )


def topic_trends(*, topic_ids: list[int], days: int = 14, today: date | None = None) -> dict[int, list[int]]:
    """Per topic, how many of its texts were written each day of the last `days` days
    (today last), in the installation's time zone."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    zone = timezone.get_current_timezone()
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    rows = (
        TopicText.objects.filter(topic_id__in=topic_ids, touchpoint__occurred_at__gte=since)
        .annotate(day=TruncDate("touchpoint__occurred_at", tzinfo=zone))
        .values_list("topic_id", "day")
        .annotate(count=Count("id"))
    )
    trends = {topic_id: [0] * days for topic_id in topic_ids}
    for topic_id, day, count in rows:
        index = (day - first).days
        if 0 <= index < days:
            trends[topic_id][index] = count
    return trends


def topic_contacts(*, topic: DiscoveredTopic, limit: int = 50) -> list[dict]:
    """Who wrote a topic's texts, those who wrote most first."""
    return list(
        TopicText.objects.filter(topic=topic)
        .values("touchpoint__contact_id", "touchpoint__contact__email")
        .annotate(texts=Count("id"), last=Max("touchpoint__occurred_at"))
        .order_by("-texts", "-last")[:limit]
    )


def topic_contact_ids(*, topic_id: int):
    """The contacts who wrote a discovered topic's texts."""
    from contacts.models import Touchpoint
    from intents.models import TopicText

    return (
        Touchpoint.objects.filter(pk__in=TopicText.objects.filter(topic_id=topic_id).values("touchpoint_id"))
        .values_list("contact_id", flat=True)
        .distinct()
    )
