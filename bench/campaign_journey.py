"""What the campaign benchmarks share: contacts in five countries and a journey of a branch
and an exit."""

from __future__ import annotations

from django.db import connection, transaction

from common.columns import insert_columns
from contacts.models import Contact

FILTER = {"field": "country", "op": "in", "value": ["FR", "BE", "DE"]}
JOURNEY = [
    {"key": "french", "type": "branch", "conditions": {"field": "country", "op": "eq", "value": "FR"},
     "yes": "done", "no": "done"},
    {"key": "done", "type": "exit"},
]  # fmt: skip


def contacts_in_countries(n: int) -> list[int]:
    columns, values = insert_columns(
        Contact,
        {
            "email": "'journey' || i || '@bench.example.net'", "first_name": "'First'", "last_name": "'Last'",
            "country": "(ARRAY['FR', 'BE', 'DE', 'GB', 'US'])[1 + i %% 5]", "lifecycle_stage": "'lead'",
        },
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO contacts_contact ({columns})
            SELECT {values} FROM generate_series(1, %s) i
            RETURNING id
            """,
            [n],
        )
        return [row[0] for row in cursor.fetchall()]


def undone(function) -> None:
    with transaction.atomic():
        function()
        transaction.set_rollback(True)
