"""Bulk writes with PostgreSQL's COPY: the fastest way in, by two orders of magnitude
over row-by-row INSERTs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections


def copy_rows(*, table: str, columns: Sequence[str], rows: Iterable[Sequence], using: str = "default") -> int:
    """COPY rows into table. JSON columns take already-serialised strings."""
    column_list = ", ".join(f'"{column}"' for column in columns)
    count = 0
    with (
        connections[using].cursor() as cursor,
        cursor.copy(f'COPY "{table}" ({column_list}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def reserve_ids(*, table: str, count: int, using: str = "default") -> list[int]:
    """Take count ids from the table's sequence, so rows written by COPY can be referenced
    before they exist."""
    if count <= 0:
        return []
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [row[0] for row in cursor.fetchall()]
