from __future__ import annotations

from campaigns.enrollment import enroll
from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind
from campaigns.triggers.field_changed import ledger_occurrences


@trigger_kind_register
class ScoreCrossed(TriggerKind):
    kind = "score_crossed"
    label = "Lead score reached the MQL threshold"
    position = 60
    listens = "score_crossed"

    def fire(self, triggers, *, now, contact_ids, **event):
        created: list[int] = []
        for trigger in triggers:
            context = {"trigger": trigger.pk, "event": "mql"}
            created += enroll(campaign=trigger.campaign, contact_ids=contact_ids, now=now, context=context)
        return created

    def backtest(self, trigger, since, until):
        return ledger_occurrences("contact.mql_reached", since, until)
