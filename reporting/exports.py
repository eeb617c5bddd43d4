"""Every table of the reports as CSV: the same rows for the browser and the API."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from contacts.exports import csv_response
from ledger.models import Action
from reporting.selectors import Group
from reporting.suggestions import Suggestion

__all__ = ["actions_csv", "csv_response", "groups_csv", "suggestions_csv"]

GROUP_HEADER = ["key", "label", "algorithmic", "manual", "total", "ratio", "ratio_label", "passes_99_to_1"]
ACTION_COLUMNS = [
    "id", "occurred_at", "actor_kind", "actor_type", "actor_id", "actor_name", "category", "verb",
    "contact_id", "object_type", "object_id", "channel", "details",
]  # fmt: skip


class _Line:
    def write(self, value: str) -> str:
        return value


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def groups_csv(groups: Iterable[Group], *, key_name: str = "key") -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow([key_name, *GROUP_HEADER[1:]])
    for group in groups:
        tally = group.tally
        passes = "" if tally.passes is None else str(tally.passes).lower()
        yield writer.writerow(
            [
                group.key,
                group.label,
                tally.algorithmic,
                tally.manual,
                tally.total,
                _ratio(tally.ratio),
                tally.label,
                passes,
            ]
        )


def suggestions_csv(suggestions: Iterable[Suggestion]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(
        [
            "category",
            "verb",
            "source",
            "manual_actions",
            "what",
            "suggestion",
            "manual_share_percent",
            "ratio_now",
            "ratio_after",
        ]
    )
    for item in suggestions:
        yield writer.writerow(
            [item.category, item.verb, item.source, item.count, item.what, item.advice, item.manual_share,
             item.before.label, item.after.label]
        )  # fmt: skip


def actions_csv(queryset: QuerySet[Action]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(ACTION_COLUMNS)
    for row in queryset.values_list(*ACTION_COLUMNS).iterator(chunk_size=2000):
        yield writer.writerow(
            [
                json.dumps(value, ensure_ascii=False)
                if isinstance(value, dict)
                else (value.isoformat() if hasattr(value, "isoformat") else ("" if value is None else value))
                for value in row
            ]
        )
