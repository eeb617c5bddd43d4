"""Audiences at scale.

`audience_export`: a segment of N contacts, a tenth of them suppressed or unsubscribed, goes
out as an ad platform's CSV of SHA-256-hashed e-mails, through the product (the exclusions,
the file in storage, the sync row, the ledger). Baseline: PostgreSQL's bare COPY of the
hashes of every member to a file, without exclusions.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from django.db import connection

from bench import benchmark, median_seconds, result, rolled_back
from common.columns import insert_columns
from contacts.models import Contact
from ledger.context import Actor, acting_as
from messaging.audiences import audience_sync
from messaging.models import Audience
from segments.services import segment_create


def _members(segment_id: int, n: int) -> None:
    columns, values = insert_columns(
        Contact,
        {
            "email": "'audience' || i || '@bench.example.net'",
            "first_name": "'First'", "last_name": "'Last'",
            "country": "'FR'", "lifecycle_stage": "'lead'",
            "consent_email": "CASE WHEN i %% 20 = 0 THEN 'unsubscribed' ELSE '' END",
        },
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH made AS (
                INSERT INTO contacts_contact ({columns})
                SELECT {values} FROM generate_series(1, %(n)s) i
                RETURNING id, email
            ), suppressed AS (
                INSERT INTO contacts_suppression (channel, address_hash, reason, detail, created_at)
                SELECT 'email', encode(sha256(convert_to(email, 'UTF8')), 'hex'), 'hard_bounce', '', now()
                  FROM made WHERE id %% 20 = 7
            )
            INSERT INTO segments_membership (segment_id, contact_id, entered_at)
            SELECT %(segment)s, id, now() FROM made
            """,
            {"n": n, "segment": segment_id},
        )


@benchmark("audience_export", default_scale=100_000, description="a segment to an ad platform's hashed CSV")
def audience_export(scale: int) -> Iterator[dict]:
    with rolled_back(), acting_as(Actor.for_command("bench")):
        segment = segment_create(name="Bench audience", slug="bench-audience", kind="static")
        _members(segment.pk, scale)
        audience = Audience.objects.create(name="Bench audience", segment=segment, kind="ads_csv")
        counts = []

        def product():
            sync = audience_sync(audience=audience)
            counts.append(sync.members)
            sync.file.delete(save=False)

        def baseline():
            with tempfile.TemporaryFile() as file, connection.cursor() as cursor:
                statement = (
                    "COPY (SELECT encode(sha256(convert_to(c.email, 'UTF8')), 'hex') "
                    "FROM contacts_contact c JOIN segments_membership m ON m.contact_id = c.id "
                    "WHERE m.segment_id = %s ORDER BY c.id) TO STDOUT WITH (FORMAT csv, HEADER)"
                )
                with cursor.copy(statement.replace("%s", str(int(segment.pk)))) as copy:
                    for chunk in copy:
                        file.write(chunk)

        seconds = median_seconds(product, repeat=3)
        baseline_seconds = median_seconds(baseline, repeat=3)
        yield result(
            bench="audience_export", n=scale, seconds=seconds,
            baseline="COPY of every member's hash, no exclusions", baseline_seconds=baseline_seconds,
            per="contact", items=scale, members=counts[-1],
        )  # fmt: skip
