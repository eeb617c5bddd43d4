from datetime import UTC, datetime, timedelta

import time_machine

from intents.models import Intent, IntentSignal
from intents.signals import intents_detected
from segments import services
from segments.models import Membership
from tests.factories import ContactFactory

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_an_intent_counts_with_its_decayed_score_and_re_forms_on_detection(as_robot):
    # given: compare halves every 240 hours; anne's 0.8 was stored 10 days ago (0.4 now)
    compare = Intent.objects.get(key="compare")
    assert compare.half_life_hours == 240
    anne, bert = ContactFactory(), ContactFactory()
    with time_machine.travel(NOW, tick=False):
        IntentSignal.objects.create(
            contact=anne, intent=compare, score=0.8, updated_at=NOW - timedelta(days=10)
        )
        IntentSignal.objects.create(
            contact=bert, intent=compare, score=0.8, updated_at=NOW - timedelta(days=1)
        )
        shoppers = services.segment_create(
            name="Comparing", conditions={"intent": "Compare", "min_score": 0.5}
        )
        services.segment_rebuild(segment=shoppers)
        assert list(Membership.objects.values_list("contact_id", flat=True)) == [bert.pk]
        assert shoppers.reads_intents == ["compare"] and shoppers.uses_time

        # when anne shows the intent again
        IntentSignal.objects.filter(contact=anne).update(score=0.9, updated_at=NOW)
        intents_detected.send(
            sender=None, detections=[{"contact_id": anne.pk, "intent": "compare", "confidence": 0.9}]
        )

    # then
    assert set(Membership.objects.values_list("contact_id", flat=True)) == {anne.pk, bert.pk}
