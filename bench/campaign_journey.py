"""What the campaign benchmarks share: contacts in five countries and a journey of a branch
and an exit."""

from __future__ import annotations

from django.db import connection, transaction

FILTER = {"field": "country", "op": "in", "value": ["FR", "BE", "DE"]}
JOURNEY = [
    {"key": "french", "type": "branch", "conditions": {"field": "country", "op": "eq", "value": "FR"},
     "yes": "done", "no": "done"},
    {"key": "done", "type": "exit"},
]  # fmt: skip


def contacts_in_countries(n: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contact (email, first_name, last_name, phone, job_title, city, country,
                timezone, lifecycle_stage, source, score, owner_id, account_id, consent_email, consent_sms,
                attributes, created_at, updated_at)
            SELECT 'journey' || i || '@bench.example.net', 'First', 'Last', '', '', '',
                   (ARRAY['FR', 'BE', 'DE', 'GB', 'US'])[1 + i %% 5], '', 'lead', '', 0, NULL, NULL, '', '',
                   '{}', now(), now()
              FROM generate_series(1, %s) i
            RETURNING id
            """,
            [n],
        )
        return [row[0] for row in cursor.fetchall()]


def undone(function) -> None:
    with transaction.atomic():
        function()
        transaction.set_rollback(True)
