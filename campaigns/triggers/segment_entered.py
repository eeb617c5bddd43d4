from __future__ import annotations

from campaigns.triggers import trigger_kind_register
from campaigns.triggers.segment_events import SegmentEvent


@trigger_kind_register
class SegmentEntered(SegmentEvent):
    kind = "segment_entered"
    label = "Entered a segment"
    position = 20
    event = "entered"
