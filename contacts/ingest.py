"""Touchpoints arriving in batches (the API takes up to 1000 at a time): written with a
handful of set-based statements whatever the batch size, never a query per item.

Retries are harmless: an item whose external_id is already stored is reported as a
duplicate and not stored again, also when two requests race.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from common.columns import insert_columns
from common.copy import reserve_ids
from contacts.models import Contact, Touchpoint
from contacts.services import touchpoints_queue
from ledger.models import Category
from ledger.services import ActionEntry, action_record_many


@dataclass(frozen=True, slots=True)
class TouchpointIn:
    """One validated item: the e-mail is normalised, the kind known."""

    email: str
    kind: str
    channel: str
    occurred_at: datetime
    source: str = ""
    text: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    status: str  # "created" or "duplicate"
    id: int
    contact_id: int


def _contacts_for(emails: set[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Ids of the contacts with these e-mails, creating the missing ones."""
    known = dict(Contact.objects.filter(email__in=emails).values_list("email", "pk"))
    missing = sorted(emails - known.keys())
    created: list[tuple[int, str]] = []
    if missing:
        with connection.cursor() as cursor:
            columns, values = insert_columns(Contact, {"email": "email", "source": "'api'"})
            cursor.execute(
                f"""
                INSERT INTO {Contact._meta.db_table} ({columns})
                SELECT {values} FROM unnest(%s::text[]) AS email
                ON CONFLICT (email) DO NOTHING
                RETURNING id, email
                """,  # noqa: S608 - columns and defaults from the model, values bound
                [missing],
            )
            created = cursor.fetchall()
        known.update({email: pk for pk, email in created})
        # A concurrent request may have created some of them first.
        still_missing = [email for email in missing if email not in known]
        if still_missing:
            known.update(Contact.objects.filter(email__in=still_missing).values_list("email", "pk"))
    return known, created


@transaction.atomic
def touchpoints_ingest(*, items: Sequence[TouchpointIn]) -> list[IngestResult]:
    """Store the items; one result per item, in order."""
    if not items:
        return []
    contact_ids, created_contacts = _contacts_for({item.email for item in items})
    ids = reserve_ids(table=Touchpoint._meta.db_table, count=len(items))
    rows = list(zip(ids, items, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_touchpoint (id, contact_id, kind_id, channel, occurred_at, source, text,
                properties, external_id, intent, created_at)
            SELECT id, contact_id, kind, channel, occurred_at, source, text, properties::jsonb, external_id,
                   '', now()
              FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::text[],
                          %s::text[], %s::text[], %s::text[])
                   AS t(id, contact_id, kind, channel, occurred_at, source, text, properties, external_id)
            ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
            RETURNING id
            """,
            [
                [pk for pk, _ in rows],
                [contact_ids[item.email] for _, item in rows],
                [item.kind for _, item in rows],
                [item.channel for _, item in rows],
                [item.occurred_at for _, item in rows],
                [item.source for _, item in rows],
                [item.text for _, item in rows],
                [json.dumps(item.properties) for _, item in rows],
                [item.external_id for _, item in rows],
            ],
        )
        inserted = {row[0] for row in cursor.fetchall()}
    duplicates = [item.external_id for pk, item in rows if pk not in inserted]
    existing = dict(
        Touchpoint.objects.filter(external_id__in=duplicates).values_list("external_id", "pk")
        if duplicates
        else []
    )
    results = [
        IngestResult("created", pk, contact_ids[item.email])
        if pk in inserted
        else IngestResult("duplicate", existing[item.external_id], contact_ids[item.email])
        for pk, item in rows
    ]
    action_record_many(
        entries=[
            *(
                ActionEntry(
                    category=Category.DATA_CAPTURE,
                    verb="contact.created_with_touchpoint",
                    contact_id=pk,
                    details={"email": email},
                )
                for pk, email in created_contacts
            ),
            *(
                ActionEntry(
                    category=Category.DATA_CAPTURE,
                    verb="touchpoint.captured",
                    contact_id=contact_ids[item.email],
                    channel=item.channel,
                    details={"kind": item.kind, "touchpoint_id": pk},
                )
                for pk, item in rows
                if pk in inserted
            ),
        ]
    )
    touchpoints_queue(touchpoint_ids=inserted)
    return results
