from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from campaigns.enrollment import enroll
from campaigns.steps.base import Field
from campaigns.triggers import trigger_kind_register
from campaigns.triggers.base import TriggerKind
from common import clock
from segments.models import Membership

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def schedule_due(trigger, *, now):
    """The schedule's latest occurrence since it was last read, if one came."""
    since = trigger.last_run_at or now
    tz = clock.zone(settings.TIME_ZONE)
    occurrence = clock.next_time_of_day(
        since + timedelta(microseconds=1), trigger.time_of_day, tz, trigger.weekdays or None
    )
    return occurrence if occurrence <= now else None


@trigger_kind_register
class Schedule(TriggerKind):
    """On a schedule (every Monday at 9:00), the members of a segment: those inside stay, the
    re-entry policy decides about the others. Missed occurrences count once."""

    kind = "schedule"
    label = "On a schedule, a segment's members"
    position = 90
    listens = "timed"
    fields = (
        Field("segment", "segment", label="everyone in", required=True, choices="segments"),
        Field("weekdays", "weekdays", label="on", aria="Weekdays"),
        Field("time_of_day", "time", label="at", aria="Time of day", required=True),
    )

    def build(self, trigger, data, path, known):
        errors = []
        trigger.segment_id = known.segment_ids.get(data.get("segment") or "")
        if trigger.segment_id is None:
            errors.append((f"{path}.segment", f"no segment with the slug {data.get('segment')!r}"))
        trigger.weekdays = data.get("weekdays") or []
        if not all(isinstance(day, int) and 0 <= day <= 6 for day in trigger.weekdays):
            errors.append((f"{path}.weekdays", "expected weekdays from 0 (Monday) to 6 (Sunday)"))
        trigger.time_of_day = clock.parse_time(data.get("time_of_day"))
        if trigger.time_of_day is None:
            errors.append((f"{path}.time_of_day", "expected a time of day as HH:MM, e.g. 09:00"))
        trigger.last_run_at = timezone.now()  # from now on: past occurrences enroll nobody
        return errors

    def describe(self, trigger):
        return f"{self.label.lower()} {trigger.segment}"

    def fire(self, triggers, *, now, **event):
        created: list[int] = []
        for trigger in triggers.select_for_update(skip_locked=True, of=("self",)):
            occurrence = schedule_due(trigger, now=now)
            if occurrence is not None:
                ids = list(
                    Membership.objects.filter(segment_id=trigger.segment_id).values_list(
                        "contact_id", flat=True
                    )
                )
                context = {"trigger": trigger.pk, "occurrence": occurrence.isoformat()}
                created += enroll(campaign=trigger.campaign, contact_ids=ids, now=now, context=context)
            triggers.model.objects.filter(pk=trigger.pk).update(last_run_at=now)
        return created

    def backtest(self, trigger, since, until):
        """Each occurrence of the schedule in the window brings the segment's members as they
        are now (who was in then is not kept)."""
        tz = clock.zone(settings.TIME_ZONE)
        occurrences, moment = 0, since
        while trigger.time_of_day is not None:
            moment = clock.next_time_of_day(
                moment + timedelta(microseconds=1), trigger.time_of_day, tz, trigger.weekdays or None
            )
            if moment > until:
                break
            occurrences += 1
        return (
            "SELECT contact_id, %s FROM segments_membership WHERE segment_id = %s AND %s > 0",
            [occurrences, trigger.segment_id, occurrences],
        )
