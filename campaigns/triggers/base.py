"""What a kind of trigger is: one class that everything knowing a kind reads.

A kind says, in one place: its `kind` (the key triggers carry) and `label`; its `fields`
(the builder's schema, the same Field as steps'); `build()`, which checks what a person or an
integration gave and sets the trigger's fields; `describe()`, the trigger in one sentence;
the event it `listens` to and `fire()`, which enrolls the contacts that event brings;
`backtest()`, the query that says whom it would have started over a past window.

Events: "touchpoints" (new touchpoints, {touchpoints}), "contacts_changed" ({contact_ids,
fields}), "score_crossed" ({contact_ids}), "intents_detected" ({detections}),
"segment_events" (membership events, read by the tick) and "timed" (beat, every minute).
A kind that listens to none starts journeys only by hand or through the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from campaigns.steps.base import Field

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from campaigns.models import Trigger
    from segments.evaluation import Known

Error = tuple[str, str]


class TriggerKind:
    kind: ClassVar[str]
    label: ClassVar[str]
    position: ClassVar[int] = 1000
    fields: ClassVar[tuple[Field, ...]] = ()
    listens: ClassVar[str | None] = None
    # Contacts it brings in are due at once: the task that reacts to the event takes their
    # first steps itself, instead of queuing them behind every task in the broker.
    advance_at_once: ClassVar[bool] = False
    # Why history cannot say whom it would have started, for a kind that backtest skips.
    not_from_history: ClassVar[str] = ""

    def schema(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "fields": [item.schema() for item in self.fields]}

    def build(self, trigger: Trigger, data: dict, path: str, known: Known) -> list[Error]:
        """Set the trigger's fields from what was given; the problems, each with its path."""
        return []

    def describe(self, trigger: Trigger) -> str:
        return self.label

    def fire(self, triggers: QuerySet[Trigger], *, now: datetime, **event) -> list[int]:
        """Enroll what the event brings into the campaigns of these (active) triggers; the
        enrollments made."""
        return []

    def backtest(self, trigger: Trigger, since: datetime, until: datetime) -> tuple[str, list] | None:
        """SELECT contact_id, count(*): how often it would have fired for each contact in
        (since, until]; None when history cannot say (see `not_from_history`)."""
        return None

    def touchpoint_kinds(self, trigger: Trigger) -> list[str]:
        """The kinds of touchpoint that bring a contact in, whose latest one a simulation
        reads the journey's dates from."""
        return []
