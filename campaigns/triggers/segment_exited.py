from __future__ import annotations

from campaigns.triggers import trigger_kind_register
from campaigns.triggers.segment_events import SegmentEvent


@trigger_kind_register
class SegmentExited(SegmentEvent):
    kind = "segment_exited"
    label = "Left a segment"
    position = 30
    event = "exited"
