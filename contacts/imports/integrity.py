"""Foreign keys checked once per chunk instead of once per row.

PostgreSQL checks a foreign key with a trigger that runs a query for every row inserted:
for a million touchpoints, two million lookups of a contact and a kind, about 9 s of the
import. An importer knows more than the trigger: every touchpoint's contact was just
joined by its e-mail, and every kind was checked against the catalogue while cleaning.
What the trigger adds beyond that is the lock that keeps the referenced row from being
deleted before the import commits; the importer takes those locks itself, once per
distinct row (`FOR KEY SHARE`, the lock the trigger takes).

The contact importer does the same for the accounts, owners, tags and contacts its rows
refer to. The triggers are left out by `session_replication_role = replica`, for this
transaction only and only while the import writes. That leaves out every trigger, not
only the foreign keys': the tables an import writes have no others, and a test keeps it
so. Setting it takes a superuser, or a role granted `SET ON PARAMETER
session_replication_role`; without that the import runs the triggers as usual, slower
and just as safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper

# The SQL below is assembled from table names and queries of the importers' own modules.
# ruff: noqa: S608


@contextmanager
def row_triggers_off() -> Iterator[bool]:
    """Yields whether the per-row foreign-key triggers are off; the caller must then take
    the locks they would have taken. They are back on when the block is left normally;
    an error leaves it to the enclosing transaction, whose rollback restores them."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        (before,) = cursor.fetchone()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        yield False
        return
    yield True
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [before])


def lock_referenced(cursor: CursorWrapper, *, table: str, ids_sql: str) -> None:
    """Lock the rows of `table` whose id is among the values of `ids_sql` (a query of one
    column), as their foreign keys' triggers would. A value that names no row means the
    row was deleted after the import looked it up: that fails the import, as the trigger
    would have."""
    cursor.execute(
        f"""
        WITH wanted AS (SELECT DISTINCT id FROM ({ids_sql}) ids (id) WHERE id IS NOT NULL),
             locked AS (SELECT id FROM {table} WHERE id IN (SELECT id FROM wanted) FOR KEY SHARE)
        SELECT id FROM wanted EXCEPT SELECT id FROM locked LIMIT 1
        """
    )
    gone = cursor.fetchone()
    if gone is not None:
        raise IntegrityError(
            f"{table} row {gone[0]} was deleted while the import was writing rows that refer to it; "
            "nothing was imported, run the import again"
        )
