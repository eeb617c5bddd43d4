"""What the segment benchmarks share: N contacts with 10 touchpoints each on average, of the
kinds a team sees, generated once per run and dropped afterwards; and the example trees
with their hand-written SQL."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from common.columns import insert_columns
from contacts.models import Contact

# What each generated contact has (the other columns take the model's defaults).
GENERATED_CONTACT = {
    "email": "'bench' || i || '@' || %s || '.example.net'", "first_name": "'First'", "last_name": "'Last'",
    "country": "(ARRAY['FR', 'BE', 'DE', 'GB', 'US', 'ES', 'NL', 'IT'])[1 + floor(random() * 8)::int]",
    "lifecycle_stage": "(ARRAY['subscriber', 'lead', 'mql', 'sql', 'opportunity', 'customer'])"
    "[1 + floor(random() * 6)::int]",
    "score": "(random() * 100)::int",
    "account_id": "CASE WHEN random() < 0.7 THEN %s + floor(random() * %s)::bigint END",
    "attributes": "jsonb_build_object('seats', floor(random() * 200)::int)",
    "created_at": "now() - random() * interval '400 days'",
}  # fmt: skip
KINDS = (
    "page_view", "page_view", "page_view", "email_open", "email_open", "email_click", "email_click",
    "webinar_registration", "form_submit", "content_download",
)  # fmt: skip
EXAMPLE = {
    "all": [
        {"field": "country", "op": "in", "value": ["FR", "BE"]},
        {"touchpoint": {"kind": "webinar_registration",
                        "where": [{"field": "properties.webinar_id", "op": "eq", "value": "w-42"}]}},
        {"not": {"field": "lifecycle_stage", "op": "eq", "value": "customer"}},
        {"any": [
            {"touchpoint": {"kind": "email_click"}, "count": {"op": "gte", "value": 2}, "within": "30d"},
            {"intent": "education", "min_score": 0.6},
        ]},
    ]
}  # fmt: skip
EXAMPLE_SQL = """
    SELECT count(*) FROM contacts_contact c
     WHERE c.country IN ('FR', 'BE')
       AND EXISTS (SELECT 1 FROM contacts_touchpoint t WHERE t.contact_id = c.id
                      AND t.kind_id = 'webinar_registration' AND t.properties ->> 'webinar_id' = 'w-42')
       AND c.lifecycle_stage <> 'customer'
       AND (c.id IN (SELECT contact_id FROM contacts_touchpoint
                      WHERE kind_id = 'email_click' AND occurred_at >= %(now)s - interval '30 days'
                      GROUP BY contact_id HAVING count(*) >= 2)
            OR EXISTS (SELECT 1 FROM intents_intentsignal s JOIN intents_intent i ON i.id = s.intent_id
                        WHERE s.contact_id = c.id AND i.key = 'education'
                          AND s.score * power(0.5, extract(epoch FROM %(now)s - s.updated_at) / 3600
                                                   / i.half_life_hours) >= 0.6))
"""
ACCOUNT_BASED = {
    "all": [
        {"not": {"field": "country", "op": "in", "value": ["US", "GB"]}},
        {"account_touchpoint": {"kind": "page_view", "where": [
            {"field": "properties.path", "op": "starts_with", "value": "/pricing"}]}, "within": "7d"},
        {"field": "attributes.seats", "op": "gte", "value": 150},
    ]
}  # fmt: skip
ACCOUNT_BASED_SQL = """
    SELECT count(*) FROM contacts_contact c
     WHERE c.country NOT IN ('US', 'GB')
       AND EXISTS (SELECT 1 FROM contacts_contact c2 JOIN contacts_touchpoint t ON t.contact_id = c2.id
                    WHERE c2.account_id = c.account_id AND t.kind_id = 'page_view'
                      AND t.properties ->> 'path' LIKE '/pricing%%'
                      AND t.occurred_at >= %(now)s - interval '7 days')
       AND (c.attributes ->> 'seats')::int >= 150
"""
TREES = [("example", EXAMPLE, EXAMPLE_SQL), ("account_based", ACCOUNT_BASED, ACCOUNT_BASED_SQL)]


@contextmanager
def generated(contacts: int, *, touchpoints_per_contact: int = 10) -> Iterator[float]:
    """The data, committed and vacuumed as a live database's would be (the planner reads
    index ends and visibility that fresh, uncommitted rows distort), and removed after.
    Yields the seconds it took to write."""
    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    with transaction.atomic():
        generate(contacts, run=run, touchpoints_per_contact=touchpoints_per_contact)
    seconds = time.perf_counter() - started
    _vacuum()
    try:
        yield seconds
    finally:
        with transaction.atomic(), connection.cursor() as cursor:
            marker = f"%@{run}.example.net"
            cursor.execute(
                "DELETE FROM contacts_touchpoint t USING contacts_contact c"
                " WHERE t.contact_id = c.id AND c.email LIKE %s",
                [marker],
            )
            cursor.execute("DELETE FROM contacts_contact WHERE email LIKE %s", [marker])
            cursor.execute("DELETE FROM contacts_account WHERE domain LIKE %s", [f"%.{run}.example.net"])
        _vacuum()


def _vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) contacts_account, contacts_contact, contacts_touchpoint")


def generate(contacts: int, *, run: str, touchpoints_per_contact: int = 10) -> None:
    """Accounts, contacts and touchpoints written by PostgreSQL itself, repeatably."""
    kinds = "ARRAY[" + ", ".join(f"'{kind}'" for kind in KINDS) + "]"
    paths = "ARRAY['/pricing', '/blog', '/docs', '/pricing/pro']"
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            WITH made AS (
            INSERT INTO contacts_account (name, domain, industry, employees, country, attributes,
                                          created_at, updated_at)
            SELECT 'Bench company ' || i, 'c' || i || '.' || %s || '.example.net', '', (random() * 1000)::int,
                   'FR', '{}', now(), now()
              FROM generate_series(1, %s) i
            RETURNING id
            ) SELECT min(id), count(*), max(id) FROM made
            """,
            [run, max(1, contacts // 10)],
        )
        first_account, accounts = _contiguous(cursor.fetchone())
        columns, values = insert_columns(Contact, GENERATED_CONTACT)
        cursor.execute(
            f"""
            WITH made AS (
            INSERT INTO contacts_contact ({columns})
            SELECT {values} FROM generate_series(1, %s) i
            RETURNING id
            ) SELECT min(id), count(*), max(id) FROM made
            """,
            [run, first_account, accounts, contacts],
        )
        first_contact, contact_count = _contiguous(cursor.fetchone())
        cursor.execute(
            f"""
            INSERT INTO contacts_touchpoint (contact_id, kind_id, channel, occurred_at, source, text,
                                             properties, external_id, intent, created_at)
            SELECT contact_id, kind, 'web', now() - random() * interval '90 days', '', '',
                   CASE kind
                       WHEN 'webinar_registration'
                           THEN jsonb_build_object('webinar_id', 'w-' || floor(random() * 50)::int)
                       WHEN 'page_view'
                           THEN jsonb_build_object('path', ({paths})[1 + floor(random() * 4)::int])
                       ELSE '{{}}'::jsonb END,
                   NULL, '', now()
              FROM (SELECT %s + floor(random() * %s)::bigint AS contact_id,
                           ({kinds})[1 + floor(random() * {len(KINDS)})::int + 0 * i] AS kind
                      FROM generate_series(1, %s) i) generated
            """,
            [first_contact, contact_count, contacts * touchpoints_per_contact],
        )


def _contiguous(row: tuple) -> tuple[int, int]:
    """(first id, count) of rows just inserted, which the touchpoints draw from by offset;
    memory stays flat whatever the scale, since no id list is fetched."""
    first, count, last = row
    if last - first + 1 != count:
        raise RuntimeError("another session inserted rows meanwhile; run the benchmark on a quiet database")
    return first, count
