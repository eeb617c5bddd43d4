"""A contact's score and intents over time, read back from the ledger.

Every score change and every detected intent is already an action in the ledger, so the
history needs no table of its own: the score is the last value each change set, and an
intent's strength is rebuilt with the same rule the signals use (each detection combines
with what is left of the old score as an independent chance; the score halves every
half-life in between). The rebuilt curve ends where the stored signal stands now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from intents.models import Intent, decayed
from ledger.models import Action

SCORE_VERBS = ("contact.scored", "contact.updated", "contact.imported")
MAX_INTENTS = 5  # more lines than this make a chart nobody reads
CURVE_POINTS = 8  # points drawn along each stretch of decay
MAX_POINTS = 400  # per line; a laptop screen has fewer pixels than that across a chart
HISTORY_DAYS = 90


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass
class Series:
    key: str
    name: str
    points: list[Point] = field(default_factory=list)

    @property
    def last(self) -> float:
        return self.points[-1].value if self.points else 0.0


def _score_change(action: Action) -> tuple[float | None, float] | None:
    """(from, to) of the score in one action, or None if it did not touch the score."""
    details = action.details or {}
    if action.verb == "contact.scored" and "to" in details:
        return details.get("from"), details["to"]
    change = (details.get("changes") or {}).get("score")
    if isinstance(change, (list, tuple)) and len(change) == 2 and change[1] is not None:
        return change[0], change[1]
    return None


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def contact_score_history(*, contact, now: datetime) -> Series:
    """The contact's score after each change, from its creation to now (a step line)."""
    actions = (
        Action.objects.filter(contact_id=contact.pk, verb__in=SCORE_VERBS)
        .filter(Q(verb="contact.scored") | Q(details__changes__has_key="score"))
        .order_by("occurred_at", "id")
        .only("occurred_at", "verb", "details")
    )
    series = Series(key="score", name="Score")
    for action in actions.iterator():
        change = _score_change(action)
        if change is None:
            continue
        before, after = (_number(value) for value in change)
        if after is None:
            continue
        if not series.points:  # the value it had before, since the contact exists
            start = min(contact.created_at, action.occurred_at)
            series.points.append(Point(start, before if before is not None else 0.0))
        series.points.append(Point(action.occurred_at, after))
    if not series.points:
        series.points.append(Point(contact.created_at, float(contact.score or 0)))
    series.points.append(Point(now, float(contact.score or 0)))
    return series


def _decay_between(
    series: Series, start: datetime, end: datetime, *, half_life_hours: float, min_gap: timedelta
) -> None:
    """Points along the fall of the last value from `start` to `end` (not including either);
    none for a gap too short to show a curve, so busy contacts stay light to draw."""
    if end - start < min_gap or not series.points:
        return
    value = series.last
    step = (end - start) / CURVE_POINTS
    for n in range(1, CURVE_POINTS):
        at = start + step * n
        series.points.append(Point(at, decayed(value, since=start, at=at, half_life_hours=half_life_hours)))


def contact_intent_history(*, contact_id: int, now: datetime, limit: int = MAX_INTENTS) -> list[Series]:
    """Each intent the contact showed, as its strength over time: rising at each detection,
    fading with the intent's half-life between them. The strongest now come first."""
    min_gap = timedelta(days=HISTORY_DAYS) / 200
    intents = {intent.key: intent for intent in Intent.objects.all()}
    detections = (
        Action.objects.filter(contact_id=contact_id, verb="intent.detected")
        .order_by("occurred_at", "id")
        .values_list("occurred_at", "details")
    )
    curves: dict[str, Series] = {}
    changed_at: dict[str, datetime] = {}
    for at, details in detections.iterator():
        intent = intents.get((details or {}).get("intent"))
        confidence = _number((details or {}).get("confidence"))
        if intent is None or confidence is None:
            continue
        series = curves.setdefault(intent.key, Series(key=intent.key, name=intent.name))
        if intent.key in changed_at:
            since, peak = changed_at[intent.key], series.last
            _decay_between(series, since, at, half_life_hours=intent.half_life_hours, min_gap=min_gap)
            before = decayed(peak, since=since, at=at, half_life_hours=intent.half_life_hours)
        else:
            before = 0.0
        series.points.append(Point(at, before))
        gain = min(1.0, max(0.0, confidence))
        series.points.append(Point(at, min(1.0, 1.0 - (1.0 - before) * (1.0 - gain))))
        changed_at[intent.key] = at
    for key, series in curves.items():
        half_life, peak = intents[key].half_life_hours, series.last
        _decay_between(series, changed_at[key], now, half_life_hours=half_life, min_gap=min_gap)
        series.points.append(
            Point(now, decayed(peak, since=changed_at[key], at=now, half_life_hours=half_life))
        )
    ranked = sorted(curves.values(), key=lambda series: (-series.last, series.name))
    return ranked[:limit]


def history_chart(series_list: list[Series], *, since: datetime | None = None) -> dict:
    """The JSON a chart draws: x in milliseconds since the epoch, so uneven times stay
    uneven; points before `since` are dropped, the value at `since` kept as the start."""
    datasets = []
    for series in series_list:
        points = series.points
        if since is not None:
            earlier = [point for point in points if point.at < since]
            points = [point for point in points if point.at >= since]
            if earlier:
                points = [Point(since, earlier[-1].value), *points]
        if len(points) > MAX_POINTS:  # thin evenly, keeping the last (today's) value
            stride = math.ceil(len(points) / MAX_POINTS)
            points = points[-1::-stride][::-1]
        datasets.append(
            {
                "label": series.name,
                "points": [
                    {"x": int(point.at.timestamp() * 1000), "y": round(point.value, 4)} for point in points
                ],
            }
        )
    return {"datasets": datasets}


def history_since(now: datetime) -> datetime:
    return now - timedelta(days=HISTORY_DAYS)
