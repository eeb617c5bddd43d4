from __future__ import annotations

import json

from campaigns.enrollment import enroll
from campaigns.steps.base import Field
from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind
from campaigns.triggers.touchpoints import filter_check, has_properties, kinds_check


@trigger_kind_register
class TouchpointArrived(TriggerKind):
    """A touchpoint of a kind arrives (a webinar registration): its contact enters, with the
    touchpoint, whose properties the journey can read (its dates, for waits)."""

    kind = "touchpoint"
    label = "Touchpoint of a kind"
    position = 10
    listens = "touchpoints"
    advance_at_once = True
    fields = (
        Field("touchpoint_kinds", "kinds", label="When one of these arrives", required=True, choices="kinds"),
        Field("touchpoint_filter", "where", label="with the properties"),
    )

    def build(self, trigger, data, path, known):
        kinds = data.get("touchpoint_kinds") or []
        filter_ = data.get("touchpoint_filter") or {}
        trigger.touchpoint_kinds, trigger.touchpoint_filter = list(kinds), filter_
        return [*kinds_check(kinds, path, known, required=True), *filter_check(filter_, path)]

    def describe(self, trigger):
        return f"touchpoint {', '.join(trigger.touchpoint_kinds)}"

    def touchpoint_kinds(self, trigger):
        return list(trigger.touchpoint_kinds)

    def fire(self, triggers, *, now, touchpoints, **event):
        """Each contact enters once per campaign, with its first matching touchpoint. They are
        due now: the task that reacts to the touchpoints takes their first steps at once
        (`advance_at_once`) rather than leave them behind every task in the queue."""
        kinds = {touchpoint["kind_id"] for touchpoint in touchpoints}
        created: list[int] = []
        for trigger in triggers:
            if not kinds & set(trigger.touchpoint_kinds):
                continue
            contexts: dict[int, dict] = {}
            for touchpoint in sorted(touchpoints, key=lambda row: row["pk"]):
                wanted = touchpoint["kind_id"] in trigger.touchpoint_kinds
                if wanted and has_properties(touchpoint["properties"], trigger.touchpoint_filter):
                    contexts.setdefault(
                        touchpoint["contact_id"], {"trigger": trigger.pk, "touchpoint": touchpoint["pk"]}
                    )
            if contexts:
                created += enroll(
                    campaign=trigger.campaign,
                    contact_ids=list(contexts),
                    now=now,
                    contexts=contexts,
                    publish=False,
                )
        return created

    def backtest(self, trigger, since, until):
        return (
            """SELECT contact_id, count(*) FROM contacts_touchpoint
                WHERE kind_id = ANY(%s) AND properties @> %s::jsonb AND occurred_at > %s AND occurred_at <= %s
                GROUP BY contact_id""",
            [list(trigger.touchpoint_kinds), json.dumps(trigger.touchpoint_filter or {}), since, until],
        )
