from datetime import UTC, datetime, timedelta

from intents.models import Intent, TouchpointIntent
from intents.selectors import intents_detected_since
from tests.factories import TouchpointFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_intents_detected_lately_are_counted_by_intent(db):
    # given
    compare, purchase = Intent.objects.get(key="compare"), Intent.objects.get(key="purchase")
    for intent, days_ago in [(compare, 1), (compare, 2), (purchase, 3), (purchase, 30), (None, 1)]:
        touchpoint = TouchpointFactory(occurred_at=NOW - timedelta(days=days_ago))
        method = TouchpointIntent.Method.NONE if intent is None else TouchpointIntent.Method.BEHAVIOUR_RULE
        TouchpointIntent.objects.create(touchpoint=touchpoint, intent=intent, confidence=0.8, method=method)

    # when
    counted = intents_detected_since(since=NOW - timedelta(days=14))

    # then
    assert counted == [("Compare", 2), ("Purchase", 1)]
