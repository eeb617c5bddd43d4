"""A reporting period: whole days in the site's time zone, both ends included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

MAX_DAYS = 3660


class PeriodError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("end", f"the end ({self.end}) is before the start ({self.start})")
        if self.days > MAX_DAYS:
            raise PeriodError("start", f"a period is at most {MAX_DAYS} days; this one has {self.days}")

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(start=today - timedelta(days=days - 1), end=today)

    @classmethod
    def parse(cls, start: str | None, end: str | None, *, default_days: int = 30) -> Period:
        """From query-string dates (YYYY-MM-DD); a missing end is today, a missing start
        is default_days before the end."""
        end_day = _parse_day("end", end) if end else timezone.localdate()
        start_day = _parse_day("start", start) if start else end_day - timedelta(days=default_days - 1)
        return cls(start=start_day, end=end_day)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_before(self) -> datetime:
        """The first instant after the period."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def __str__(self) -> str:
        return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"


def _parse_day(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise PeriodError(field, f"{value!r} is not a date; expected YYYY-MM-DD") from error
