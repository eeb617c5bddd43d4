"""The least an import could cost: the rows it wrote, COPYed again into the same tables.

Whatever an importer does, it must write its rows, each with every index of its table.
How long that alone takes is measured here. The rows an import wrote are saved in
PostgreSQL's binary COPY format; the import is rolled back and its tables vacuumed; then
the saved rows are COPYed back, one table after the other, in one transaction with the
session settings of an import and the per-row foreign-key triggers off, as an import has
them. There is no reading, cleaning, lookup or conflict check in it: what an import
takes beyond this floor is the importer's own work, and what the floor takes can only be
made shorter by changing the tables (their indexes) or the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from bench import rolled_back
from contacts.imports.integrity import row_triggers_off
from contacts.imports.jobs import import_settings

# Table names come from the benchmarks' own constants, ids are integers.

DESCRIPTION = "COPY of the rows the import wrote into the same tables, with their indexes"


@dataclass(frozen=True, slots=True)
class SavedRows:
    table: str
    path: Path
    rows: int


def timed_import[T](
    run: Callable[[], T], *, tables: Sequence[str], directory: Path
) -> tuple[T, float, list[SavedRows]]:
    """run()'s result and duration; the rows it wrote in `tables` are saved for the floor."""
    marks = last_ids(tables)
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    return outcome, seconds, save_rows_since(marks, directory=directory)


def last_ids(tables: Sequence[str]) -> dict[str, int]:
    """The highest id of each table: the rows written after this have higher ones."""
    marks = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'SELECT COALESCE(max(id), 0) FROM "{table}"')
            marks[table] = int(cursor.fetchone()[0])
    return marks


def save_rows_since(marks: dict[str, int], *, directory: Path) -> list[SavedRows]:
    """Save the rows of each table whose id is above its mark, in the order of the ids."""
    saved = []
    with connection.cursor() as cursor:
        for table, mark in marks.items():
            path = directory / f"{table}.copy"
            written = f'SELECT * FROM "{table}" WHERE id > {int(mark)} ORDER BY id'
            out = f"COPY ({written}) TO STDOUT (FORMAT binary)"
            with cursor.copy(out) as copy, path.open("wb") as stream:
                for block in copy:
                    stream.write(block)
            saved.append(SavedRows(table=table, path=path, rows=cursor.rowcount))
    return saved


def copy_back(saved: Sequence[SavedRows]) -> None:
    """COPY the saved rows into their tables again, in the current transaction."""
    with connection.cursor() as cursor:
        for rows in saved:
            into = f'COPY "{rows.table}" FROM STDIN (FORMAT binary)'
            with cursor.copy(into) as copy, rows.path.open("rb") as stream:
                while block := stream.read(1 << 20):
                    copy.write(block)


def floor_fields(saved: Sequence[SavedRows], *, seconds: float) -> dict:
    """The floor's figures for a benchmark's result line, next to the import's `seconds`.
    None when the role may not turn the triggers off: rows whose contacts were rolled back
    could not be written again with them on, and the floor would not be an import's."""
    tables = [rows.table for rows in saved]
    with rolled_back(vacuum=tables):
        import_settings()
        with row_triggers_off() as off:
            started = time.perf_counter()
            if off:
                copy_back(saved)
            floor_seconds = time.perf_counter() - started if off else None
    return {
        "floor": DESCRIPTION,
        "floor_seconds": round(floor_seconds, 6) if floor_seconds else None,
        "floor_rows": sum(rows.rows for rows in saved),
        "over_floor": round(seconds / floor_seconds, 2) if floor_seconds else None,
    }
