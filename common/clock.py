"""Time as a contact lives it: times of day in the contact's own time zone, dates named by
a path into the contact or the touchpoint that brought it, and the windows of quiet hours."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_time(value: Any) -> time | None:
    """ "09:30" as a time, or None when it is not HH:MM."""
    if isinstance(value, time):
        return value
    match = TIME.match(value) if isinstance(value, str) else None
    return time(int(match[1]), int(match[2])) if match else None


def zone(name: str | None) -> ZoneInfo:
    """The contact's time zone, else the site's."""
    for candidate in (name, settings.TIME_ZONE):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def next_time_of_day(now: datetime, at: time, tz: ZoneInfo, weekdays: list[int] | None = None) -> datetime:
    """The first moment at or after `now` when the wall clock in `tz` shows `at` (on one of
    the weekdays, 0 = Monday, when given)."""
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        candidate = at_local(day, at, tz)
        if candidate >= now and (not weekdays or day.weekday() in weekdays):
            return candidate
    raise ValueError("no weekday given")  # unreachable with at least one weekday


def as_moment(value: Any, tz: ZoneInfo) -> datetime | date | None:
    """A stored date or moment: a datetime, a date, or ISO 8601 text of either."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def shifted(moment: datetime | date, *, days: int, hours: int, at: time | None, tz: ZoneInfo) -> datetime:
    """A date expression: the moment moved by days and hours, then (with `at`) put at that
    time of day in `tz`. A bare date starts at midnight in `tz`."""
    if not isinstance(moment, datetime):
        moment = at_local(moment, time(0), tz)
    moved = moment + timedelta(days=days, hours=hours)
    if at is not None:
        moved = at_local(moved.astimezone(tz).date(), at, tz)
    return moved


def quiet_until(moment: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """When the quiet window that holds `moment` opens again, or None outside it. A window
    whose start is after its end runs over midnight (21:00 to 08:00)."""
    local = moment.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start == end:
        return None
    inside = (start <= clock < end) if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    opening = at_local(local.date(), end, tz)
    return opening if opening > moment else at_local(local.date() + timedelta(days=1), end, tz)
