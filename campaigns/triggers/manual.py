from __future__ import annotations

from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind


@trigger_kind_register
class Manual(TriggerKind):
    kind = "manual"
    label = "By hand or by the API"
    position = 40
    not_from_history = "people and integrations enroll by hand: history cannot say who they would have"
