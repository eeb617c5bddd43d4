"""CSV exports, streamed: rows leave as they are read, so a million contacts cost the
same memory as ten. The columns are the import's, so an export can be imported back."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.aggregates import StringAgg
from django.http import StreamingHttpResponse

from contacts.models import Contact, ContactTag, Touchpoint

CHUNK = 2000

CONTACT_COLUMNS = [
    ("email", "email"), ("first_name", "first_name"), ("last_name", "last_name"), ("phone", "phone"),
    ("job_title", "job_title"), ("city", "city"), ("country", "country"), ("timezone", "timezone"),
    ("lifecycle_stage", "lifecycle_stage"), ("source", "source"), ("score", "score"),
    ("owner", "owner__username"), ("tags", "tag_names"), ("consent_email", "consent_email"),
    ("consent_sms", "consent_sms"), ("account_name", "account__name"), ("account_domain", "account__domain"),
    ("account_industry", "account__industry"), ("account_employees", "account__employees"),
    ("account_country", "account__country"), ("attributes", "attributes"), ("created_at", "created_at"),
    ("updated_at", "updated_at"),
]  # fmt: skip

TOUCHPOINT_COLUMNS = [
    ("email", "contact__email"), ("kind", "kind_id"), ("channel", "channel"), ("occurred_at", "occurred_at"),
    ("source", "source"), ("text", "text"), ("external_id", "external_id"), ("properties", "properties"),
    ("intent", "intent"),
]  # fmt: skip


class _Line:
    """csv.writer writes into this and we hand the text on."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _csv_lines(queryset: QuerySet, columns: list[tuple[str, str]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow([header for header, _ in columns])
    paths = [path for _, path in columns]
    for row in queryset.values_list(*paths).iterator(chunk_size=CHUNK):
        yield writer.writerow([_cell(value) for value in row])


def contacts_csv(queryset: QuerySet[Contact]) -> Iterator[str]:
    tag_names = (
        ContactTag.objects.filter(contact=OuterRef("pk"))
        .values("contact")
        .annotate(names=StringAgg("tag__name", delimiter=Value(";"), order_by="tag__name"))
        .values("names")
    )
    queryset = queryset.annotate(tag_names=Subquery(tag_names)).order_by("pk")
    return _csv_lines(queryset, CONTACT_COLUMNS)


def touchpoints_csv(queryset: QuerySet[Touchpoint]) -> Iterator[str]:
    return _csv_lines(queryset.order_by("pk"), TOUCHPOINT_COLUMNS)


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
