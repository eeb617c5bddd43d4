from datetime import UTC

import django_filters
from django import forms


class UTCDateTimeField(forms.DateTimeField):
    """An ISO 8601 date-time, handed to the database in UTC. PostgreSQL refuses offsets
    Python accepts (+19:58), and a date at the edge of the calendar may not convert;
    both are the sender's mistake, so they are a 400 that says so, never a 500."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError) as error:
            message = f"{value!r} is outside the dates this API stores"
            raise forms.ValidationError(message, code="invalid") from error


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = type("IsoUTCDateTimeField", (django_filters.fields.IsoDateTimeField, UTCDateTimeField), {})
