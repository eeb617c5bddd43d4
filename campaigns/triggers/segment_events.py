"""Entering a segment, and leaving it: the membership events the segments keep, read by the
tick in order from where each trigger last looked."""

from __future__ import annotations

from django.db.models import Max

from campaigns.enrollment import enroll
from campaigns.steps.base import Field
from campaigns.triggers.base import TriggerKind
from segments.models import MembershipEvent

EVENTS_AT_ONCE = 10_000


class SegmentEvent(TriggerKind):
    event: str  # "entered" or "exited"
    listens = "segment_events"
    fields = (Field("segment", "segment", label="the segment", required=True, choices="segments"),)

    def build(self, trigger, data, path, known):
        trigger.segment_id = known.segment_ids.get(data.get("segment") or "")
        # Only what happens from now on: the segment's history enrolls nobody.
        trigger.last_event_id = MembershipEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        if trigger.segment_id is None:
            return [(f"{path}.segment", f"no segment with the slug {data.get('segment')!r}")]
        return []

    def describe(self, trigger):
        return f"{self.label.lower()} {trigger.segment}"

    def fire(self, triggers, *, now, **event):
        enrolled: list[int] = []
        locked = triggers.select_for_update(skip_locked=True, of=("self",)).select_related("segment")
        for trigger in locked:
            events = list(
                MembershipEvent.objects.filter(
                    segment_id=trigger.segment_id, kind=self.event, pk__gt=trigger.last_event_id
                )
                .order_by("pk")
                .values_list("pk", "contact_id")[:EVENTS_AT_ONCE]
            )
            if not events:
                continue
            enrolled += enroll(
                campaign=trigger.campaign,
                contact_ids=[contact_id for _, contact_id in events],
                now=now,
                context={"trigger": trigger.pk, "segment": trigger.segment_id, "event": self.event},
            )
            triggers.model.objects.filter(pk=trigger.pk).update(last_event_id=events[-1][0])
        return enrolled

    def backtest(self, trigger, since, until):
        return (
            """SELECT contact_id, count(*) FROM segments_membershipevent
                WHERE segment_id = %s AND kind = %s AND occurred_at > %s AND occurred_at <= %s
                GROUP BY contact_id""",
            [trigger.segment_id, self.event, since, until],
        )
