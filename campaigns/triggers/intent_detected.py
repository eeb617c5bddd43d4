from __future__ import annotations

from campaigns.enrollment import enroll
from campaigns.steps.base import Field
from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind
from campaigns.triggers.field_changed import ledger_occurrences


@trigger_kind_register
class IntentDetected(TriggerKind):
    """An intent was recognised in what the contact did or wrote; the contact enters with
    the touchpoint that showed it (its first one)."""

    kind = "intent_detected"
    label = "An intent was detected"
    position = 70
    listens = "intents_detected"
    fields = (
        Field("intent", "select", label="the intent", required=True, choices="intents"),
        Field("min_confidence", "confidence", label="with a confidence of at least", aria="Confidence"),
    )

    def build(self, trigger, data, path, known):
        from intents.models import Intent

        errors = []
        trigger.intent, trigger.min_confidence = data.get("intent") or "", data.get("min_confidence")
        if not Intent.objects.filter(key=trigger.intent).exists():
            errors.append((f"{path}.intent", f"no intent with the key {trigger.intent!r}"))
        if trigger.min_confidence is not None and not 0 <= trigger.min_confidence <= 1:
            errors.append((f"{path}.min_confidence", "expected a confidence between 0 and 1"))
        return errors

    def describe(self, trigger):
        return f"intent {trigger.intent} detected"

    def fire(self, triggers, *, now, detections, **event):
        created: list[int] = []
        for trigger in triggers:
            contexts: dict[int, dict] = {}
            for found in sorted(detections, key=lambda row: row.get("touchpoint_id") or 0):
                if found["intent"] != trigger.intent or found["confidence"] < (trigger.min_confidence or 0):
                    continue
                contexts.setdefault(
                    found["contact_id"],
                    {
                        "trigger": trigger.pk,
                        "intent": found["intent"],
                        "touchpoint": found.get("touchpoint_id"),
                    },
                )
            if contexts:
                created += enroll(
                    campaign=trigger.campaign, contact_ids=list(contexts), now=now, contexts=contexts
                )
        return created

    def backtest(self, trigger, since, until):
        return ledger_occurrences(
            "intent.detected", since, until,
            "details ->> 'intent' = %s AND (details ->> 'confidence')::float >= %s",
            [trigger.intent, trigger.min_confidence or 0],
        )  # fmt: skip
