"""What the kinds of trigger read about touchpoints share."""

from __future__ import annotations

from campaigns.triggers.base import Error


def has_properties(properties: dict | None, wanted: dict | None) -> bool:
    """A touchpoint's properties include every wanted key with its value."""
    properties = properties or {}
    return all(properties.get(key) == value for key, value in (wanted or {}).items())


def kinds_check(kinds, path: str, known, *, required: bool) -> list[Error]:
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        return [
            (f"{path}.touchpoint_kinds", 'expected a list of touchpoint kinds, e.g. ["webinar_registration"]')
        ]
    if required and not kinds:
        return [(f"{path}.touchpoint_kinds", "name at least one touchpoint kind")]
    unknown = [key for key in kinds if key not in known.vocabulary.kinds]
    if unknown:
        return [(f"{path}.touchpoint_kinds", f"unknown touchpoint kinds: {', '.join(unknown)}")]
    return []


def filter_check(filter_, path: str) -> list[Error]:
    if not isinstance(filter_, dict):
        return [(f"{path}.touchpoint_filter", 'expected an object of properties, e.g. {"webinar": "w1"}')]
    return []
