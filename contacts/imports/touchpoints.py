"""Importing touchpoints: append-only, deduplicated, set-based.

Unlike contacts there is nothing to merge across the file, so each chunk is streamed
into the staging table and applied at once, while a thread reads and cleans the next:
unknown contacts are created, then the touchpoints are inserted in one statement that
skips duplicates, whose RETURNING feeds the ledger. A duplicate is a row whose
external_id is already stored (or given earlier in the file); without an external_id,
a row identical in every column to a stored touchpoint of the same contact. That is
what makes a second run of a file change nothing.
"""

# The SQL below is assembled from this module's constants (table and column names);
# every value from the file travels as a parameter or through COPY.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from common.columns import insert_columns
from common.copy import copy_data
from contacts import dispatch
from contacts.imports import fields
from contacts.imports.ahead import chunks_read_ahead, copy_ready
from contacts.imports.integrity import row_triggers_off
from contacts.imports.jobs import (
    AHEAD,
    CHUNK_ROWS,
    COPY_ROWS,
    LEDGER_ACTOR_VALUES,
    actor_params,
    import_run,
    open_for_import,
    progress_bar,
)
from contacts.imports.reader import SourceFile
from contacts.imports.rejects import RejectsFile
from contacts.models import Channel, Contact, ImportJob, Touchpoint, TouchpointKind
from ledger.services import ACTIONS_INSERT

# A contact a touchpoint brings that is not known yet: its e-mail, the rest the model's defaults.
NEW_CONTACT = insert_columns(
    Contact,
    {
        "email": "email", "source": "'import'",
        "created_at": "%(now)s::timestamptz", "updated_at": "%(now)s::timestamptz",
    },
)  # fmt: skip

STAGED = "import_touchpoints_staged"
REQUIRED = ("email", "kind", "occurred_at")
KNOWN_COLUMNS = frozenset(
    ["email", "kind", "channel", "occurred_at", "source", "text", "external_id", "properties"]
)
STAGED_COLUMNS = (
    "seq", "line", "email", "kind", "channel", "occurred_at", "source", "text", "external_id", "properties",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TouchpointImportResult:
    created: int
    duplicate: int
    rejected: int
    contacts_created: int
    job: ImportJob | None

    @property
    def summary(self) -> str:
        return f"created {self.created}, duplicate {self.duplicate}, rejected {self.rejected}"


class _RowRejected(Exception):
    pass


class _Cleaner:
    def __init__(self) -> None:
        self.kinds = dict(TouchpointKind.objects.values_list("key", "default_channel"))
        listed = sorted(self.kinds)
        more = f" and {len(listed) - 8} more" if len(listed) > 8 else ""
        self.known_kinds = ", ".join(listed[:8]) + more
        self.channels = {value: value for value in Channel.values}
        self.channel_hint = f"a channel ({', '.join(Channel.values)})"
        self.source_length = Touchpoint._meta.get_field("source").max_length
        self.external_id_length = Touchpoint._meta.get_field("external_id").max_length

    def row(self, seq: int, line: int, values: dict[str, Any]) -> tuple:
        errors: list[str] = []
        out: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for column, value in values.items():
            key = column.lower()
            if key in KNOWN_COLUMNS:
                out[key] = value
            elif value not in (None, ""):
                # An unexpected column is kept on the touchpoint rather than dropped.
                name = column[len("properties.") :] if key.startswith("properties.") else column
                extra[name] = value.strip() if isinstance(value, str) else value

        def take(column: str, clean, *args, **kwargs) -> Any:
            try:
                return clean(*args, **kwargs)
            except fields.CellError as error:
                errors.append(f"{column}: {error}")
                return None

        email = take("email", fields.email, out.get("email"))
        kind = take("kind", self._kind, out.get("kind"))
        channel = take(
            "channel",
            fields.choice,
            out.get("channel"),
            choices=self.channels,
            hint=self.channel_hint,
        )
        occurred_at = take("occurred_at", fields.moment, out.get("occurred_at"))
        source = take(
            "source", lambda v: fields.limited(fields.text(v), self.source_length), out.get("source")
        )
        text = take("text", _raw_text, out.get("text"))
        external_id = take(
            "external_id",
            lambda v: fields.limited(fields.text(v), self.external_id_length),
            out.get("external_id"),
        )
        properties = take("properties", fields.json_object, out.get("properties"))
        properties_json = take("properties", fields.json_text, {**(properties or {}), **extra})
        if errors:
            raise _RowRejected("; ".join(errors))
        channel = channel or self.kinds[kind]
        return (
            seq,
            line,
            email,
            kind,
            channel,
            occurred_at,
            source,
            text,
            external_id or None,
            properties_json,
        )

    def _kind(self, value: Any) -> str:
        key = fields.text(value)
        if not key:
            raise fields.CellError(f"a kind is required (known: {self.known_kinds})")
        if key not in self.kinds:
            raise fields.CellError(f"{key!r} is not a known touchpoint kind (known: {self.known_kinds})")
        return key


def _raw_text(value: Any) -> str:
    """Free text keeps its inner line breaks; only the ends are trimmed."""
    return fields.text(value)


def touchpoints_import(
    *,
    path: Path | str,
    rejects_path: Path | str | None = None,
    dry_run: bool = False,
    progress: bool = False,
    mapping: dict[str, str] | None = None,
    job: ImportJob | None = None,
    on_bytes: Callable[[int], object] | None = None,
) -> TouchpointImportResult:
    """Import a CSV or JSON Lines file of touchpoints. Raises ImportFileError, with
    nothing written, when the file as a whole cannot be read."""
    with open_for_import(path=path, required=REQUIRED, mapping=mapping, on_bytes=on_bytes) as source:
        rejects = RejectsFile(path=rejects_path, columns=source.reject_columns)
        counts, job = import_run(
            kind=ImportJob.Kind.TOUCHPOINTS,
            source=source,
            rejects=rejects,
            dry_run=dry_run,
            job=job,
            work=lambda job: _import(source=source, rejects=rejects, job=job, progress=progress),
        )
    if job is not None and counts.get("created"):
        # Committed by now: the apps that react to touchpoints hear of the whole file once.
        transaction.on_commit(lambda: dispatch.touchpoints_import_announce_soon(job.pk))
    return TouchpointImportResult(job=job, **counts)


def _import(*, source: SourceFile, rejects: RejectsFile, job: ImportJob | None, progress: bool) -> dict:
    cleaner = _Cleaner()
    counts = {"created": 0, "duplicate": 0, "contacts_created": 0}
    params = {
        **actor_params(),
        "now": timezone.now(),
        "file": source.path.name,
        "job": job.pk if job else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DROP TABLE IF EXISTS pg_temp.{STAGED};
            CREATE TEMP TABLE {STAGED} (
                seq bigint, line bigint, email text, kind text, channel text, occurred_at timestamptz,
                source text, text text, external_id text, properties jsonb
            )
            """
        )

    def staged_rows(bar) -> Iterator[tuple]:
        for seq, record in enumerate(source.records(on_bytes=bar.update), start=1):
            if record.error:
                rejects.add(line=record.line, original=record.original, reason=record.error)
                continue
            try:
                yield cleaner.row(seq, record.line, record.values)
            except _RowRejected as error:
                rejects.add(line=record.line, original=record.original, reason=str(error))

    with (
        row_triggers_off() as locks_by_set,
        progress_bar(total=source.size, unit="B", desc="importing", enabled=progress) as bar,
        chunks_read_ahead(staged_rows(bar), size=COPY_ROWS, prepare=copy_ready, depth=AHEAD) as chunks,
    ):
        if locks_by_set:
            _lock_kinds()
        waiting = applied = 0
        for rows, data in chunks:
            copy_data(table=STAGED, columns=STAGED_COLUMNS, data=data)
            waiting += rows
            if waiting >= CHUNK_ROWS:
                _apply_chunk(rows=waiting, params=params, counts=counts, first=not applied, lock=locks_by_set)
                waiting, applied = 0, applied + 1
        if waiting:
            _apply_chunk(rows=waiting, params=params, counts=counts, first=not applied, lock=locks_by_set)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGED}")
    return counts


def _lock_kinds() -> None:
    """What each touchpoint's foreign key to its kind would lock: no kind the cleaner
    accepted can be deleted before the import commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM contacts_touchpointkind FOR KEY SHARE")


def _apply_chunk(*, rows: int, params: dict, counts: dict, first: bool, lock: bool) -> None:
    """Apply the rows staged so far, then empty the staging table."""
    with connection.cursor() as cursor:
        if first:
            # Later chunks look like the first: TRUNCATE keeps these statistics.
            cursor.execute(f"ANALYZE {STAGED} (email, external_id)")
        cursor.execute(
            f"""
            -- Known people are left out before the insert: letting ON CONFLICT find them
            -- costs several times more. It stays for a contact created meanwhile. Apart, so
            -- that the planner sees how few rows are left for the external_id test below,
            -- which it would otherwise answer by hashing every stored external_id.
            WITH unknown AS MATERIALIZED (
                SELECT email, external_id FROM {STAGED} s
                 WHERE NOT EXISTS (SELECT 1 FROM contacts_contact c WHERE c.email = s.email)
            ), made AS (
                INSERT INTO contacts_contact ({NEW_CONTACT[0]})
                SELECT DISTINCT {NEW_CONTACT[1]}
                  FROM unknown u
                 -- a row that is a duplicate by its external_id creates no one
                 WHERE u.external_id IS NULL OR NOT EXISTS (
                       SELECT 1 FROM contacts_touchpoint t WHERE t.external_id = u.external_id
                 )
                ON CONFLICT (email) DO NOTHING
                RETURNING id, email
            )
            {ACTIONS_INSERT}
            SELECT {LEDGER_ACTOR_VALUES}, 'contact.created_with_touchpoint', id, 'contacts.contact',
                   id::text, '',
                   jsonb_build_object('file', %(file)s, 'import_job', %(job)s, 'email', email)
              FROM made
            """,
            params,
        )
        counts["contacts_created"] += cursor.rowcount
        if lock:
            # What each touchpoint's foreign key to its contact would lock, once per contact:
            # a contact deleted meanwhile is no longer found by the insert below.
            cursor.execute(
                f"SELECT 1 FROM contacts_contact WHERE email IN (SELECT email FROM {STAGED}) FOR KEY SHARE"
            )
        cursor.execute(
            f"""
            WITH src AS (
                SELECT s.*, c.id AS contact_id
                  FROM {STAGED} s JOIN contacts_contact c ON c.email = s.email
            ), fresh AS (
                SELECT * FROM src WHERE external_id IS NOT NULL
                UNION ALL
                SELECT DISTINCT ON (contact_id, kind, channel, occurred_at, source, text, properties) *
                  FROM src s
                 WHERE external_id IS NULL
                   AND NOT EXISTS (
                       SELECT 1 FROM contacts_touchpoint t
                        WHERE t.contact_id = s.contact_id AND t.occurred_at = s.occurred_at
                          AND t.kind_id = s.kind AND t.channel = s.channel AND t.source = s.source
                          AND t.text = s.text AND t.properties = s.properties
                   )
            ), made AS (
                INSERT INTO contacts_touchpoint (contact_id, kind_id, channel, occurred_at, source, text,
                                                 properties, external_id, intent, created_at)
                SELECT contact_id, kind, channel, occurred_at, source, text, properties, external_id, '',
                       %(now)s
                  -- By contact: the time-line indexes of touchpoints and of the ledger are
                  -- then walked in order, each page once, instead of at random.
                  FROM fresh ORDER BY contact_id, occurred_at, seq
                ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO NOTHING
                RETURNING id, contact_id, kind_id, channel
            )
            {ACTIONS_INSERT}
            SELECT {LEDGER_ACTOR_VALUES}, 'touchpoint.imported', contact_id, 'contacts.touchpoint', id::text,
                   channel,
                   jsonb_build_object('file', %(file)s, 'import_job', %(job)s, 'kind', kind_id)
              FROM made
            """,
            params,
        )
        counts["created"] += cursor.rowcount
        counts["duplicate"] += rows - cursor.rowcount
        cursor.execute(f"TRUNCATE {STAGED}")
