"""Importing contacts: upsert by normalised e-mail, set-based.

Memory does not grow with the file:

1. Count: a first pass over the file tells which e-mails only one row gives
   (contacts.imports.once).
2. Stream: every record is cleaned in Python (the same normalisers as the forms), in a
   thread that reads ahead while PostgreSQL writes; a bad record goes to the rejects file.
   A row of an e-mail given once goes to the chunk table, applied as soon as it holds
   CHUNK_ROWS, so cleaning and writing overlap. The others go to a staging table.
3. Merge duplicates: the staged rows of one e-mail (any case) become one, the later
   non-empty value winning per field, however far apart the rows are in the file.
4. Apply the merged rows, CHUNK_ROWS at a time, as in 2.

Applying a chunk means accounts, tags, new contacts, changed contacts, their tags,
consent history and one ledger action per affected contact, each a single statement over
the chunk. Counts come from what those statements returned. New contacts get ids in the
order of the file, but for repeated e-mails, which come after the rest.
"""

# The SQL below is assembled from this module's constants (table and column names);
# every value from the file travels as a parameter or through COPY.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from common.columns import insert_columns
from common.copy import copy_data
from contacts.imports import fields
from contacts.imports.ahead import chunks_read_ahead, copy_ready
from contacts.imports.integrity import lock_referenced, row_triggers_off
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
from contacts.imports.once import EmailsGivenOnce
from contacts.imports.reader import SourceFile
from contacts.imports.rejects import RejectsFile
from contacts.models import Account, Contact, ImportJob, LifecycleStage
from contacts.normalize import normalize_domain, normalize_tag_name, normalize_timezone
from ledger.services import ACTIONS_INSERT

STAGED = "import_contacts_staged"
CHUNK = "import_contacts_chunk"
MERGED = "import_contacts_merged"

# Plain text columns of a contact, with the length the model allows.
TEXT_FIELDS = ("first_name", "last_name", "job_title", "city", "source")
# Every column the importer compares and reports, in the order of the ledger's "changes".
COMPARED = (
    "first_name", "last_name", "phone", "job_title", "city", "country", "timezone", "lifecycle_stage",
    "source", "score", "owner_id", "account_id", "consent_email", "consent_sms", "attributes",
)  # fmt: skip
KNOWN_COLUMNS = frozenset(
    [
        "email", *TEXT_FIELDS, "phone", "country", "timezone", "lifecycle_stage", "score", "owner", "tags",
        "consent_email", "consent_sms", "account_name", "account_domain", "account_industry",
        "account_employees", "account_country", "attributes",
    ]
)  # fmt: skip
STAGED_COLUMNS = (
    "seq", "line", "email", *TEXT_FIELDS, "phone", "country", "timezone", "lifecycle_stage", "score",
    "owner_id", "consent_email", "consent_sms", "attributes", "tags", "account_name", "account_domain",
    "account_industry", "account_employees", "account_country",
)  # fmt: skip
CONSENT = {"subscribed": "subscribed", "unsubscribed": "unsubscribed"}
TAG_SEPARATORS = re.compile(r"[;|]")


@dataclass(frozen=True, slots=True)
class ContactImportResult:
    created: int
    updated: int
    unchanged: int
    rejected: int
    merged: int  # rows folded into an earlier row of the same e-mail
    accounts_created: int
    job: ImportJob | None

    @property
    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )


class _RowRejected(Exception):
    pass


class _Cleaner:
    """Turns one record's values into one staging row, or says what is wrong."""

    def __init__(self, *, owners: dict[str, int]) -> None:
        self.owners = owners
        self.lengths = {name: Contact._meta.get_field(name).max_length for name in TEXT_FIELDS}
        self.account_lengths = {
            name: Account._meta.get_field(name).max_length for name in ("name", "industry")
        }
        self.stages = {value: value for value in LifecycleStage.values}
        self.stages.update({str(label).lower(): value for value, label in LifecycleStage.choices})
        self.stage_hint = f"a lifecycle stage ({', '.join(LifecycleStage.values)})"

    def row(self, seq: int, line: int, values: dict[str, Any]) -> tuple:
        errors: list[str] = []
        out: dict[str, Any] = {}
        attributes: dict[str, Any] = {}

        def take(column: str, clean, *args, **kwargs) -> Any:
            try:
                return clean(*args, **kwargs)
            except fields.CellError as error:
                shown = values.get(column)
                errors.append(
                    f"{column}: {error}" if shown not in (None, "") or column == "email" else str(error)
                )
                return None

        for column, value in values.items():
            key = column.lower()
            if key in KNOWN_COLUMNS:
                out[key] = value
            elif value not in (None, ""):
                name = column[len("attributes.") :] if key.startswith("attributes.") else column
                if isinstance(value, str):
                    value = value.strip()
                    if "\x00" in value:
                        errors.append(f"{column}: contains a NUL character, which cannot be stored")
                    if not value:
                        continue
                attributes[name] = value

        email = take("email", fields.email, out.get("email"))
        texts = {
            name: take(name, fields.limited_text, out.get(name), self.lengths[name]) for name in TEXT_FIELDS
        }
        country = take("country", fields.country, out.get("country")) or ""
        phone = take("phone", fields.phone, out.get("phone"), country=country)
        tz = take("timezone", _timezone, out.get("timezone"))
        stage = take(
            "lifecycle_stage",
            fields.choice,
            out.get("lifecycle_stage"),
            choices=self.stages,
            hint=self.stage_hint,
        )
        score = take("score", fields.integer, out.get("score"))
        owner_id = take("owner", self._owner, out.get("owner"))
        consent = {
            channel: take(
                f"consent_{channel}",
                fields.choice,
                out.get(f"consent_{channel}"),
                choices=CONSENT,
                hint="'subscribed' or 'unsubscribed' (leave it empty to keep the current consent)",
            )
            for channel in ("email", "sms")
        }
        tags = take("tags", _tags, out.get("tags"))
        given = take("attributes", fields.json_object, out.get("attributes"))
        if given:
            attributes = {**given, **attributes}
        attributes_json = take("attributes", fields.json_text, attributes)
        account = take("account_name", self._account, out)
        if errors:
            raise _RowRejected("; ".join(errors))
        assert account is not None
        return (
            seq, line, email, *(texts[name] for name in TEXT_FIELDS), phone, country, tz, stage, score,
            owner_id, consent["email"], consent["sms"], attributes_json, tags, *account,
        )  # fmt: skip

    def _owner(self, value: Any) -> int | None:
        username = fields.text(value)
        if not username:
            return None
        found = self.owners.get(username, self.owners.get(username.lower()))
        if found is None:
            raise fields.CellError(f"no back-office user is named {username!r}")
        return found

    def _account(self, out: dict[str, Any]) -> tuple:
        """(name, domain, industry, employees, country); the column is in each message,
        since this one check covers five of them."""
        problems = []

        def part(column: str, clean, *args, **kwargs) -> Any:
            try:
                return clean(*args, **kwargs)
            except fields.CellError as error:
                problems.append(f"{column}: {error}")
                return None

        name = part(
            "account_name",
            lambda: fields.limited(fields.text(out.get("account_name")), self.account_lengths["name"]),
        )
        domain = part("account_domain", _domain, out.get("account_domain"))
        industry = part(
            "account_industry",
            lambda: fields.limited(
                fields.text(out.get("account_industry")), self.account_lengths["industry"]
            ),
        )
        employees = part("account_employees", fields.integer, out.get("account_employees"), minimum=0)
        country = part("account_country", fields.country, out.get("account_country"))
        if not problems and not (name or domain) and (industry or employees is not None or country):
            problems.append(
                "account_name: empty, and so is account_domain: the other account columns have no account"
            )
        if problems:
            raise fields.CellError("; ".join(problems))
        return (name, domain, industry, employees, country)


def _timezone(value: Any) -> str:
    try:
        return normalize_timezone(fields.text(value))
    except ValidationError as error:
        raise fields.CellError(fields.message_of(error)) from None


def _domain(value: Any) -> str:
    try:
        return normalize_domain(fields.text(value))
    except ValidationError as error:
        raise fields.CellError(fields.message_of(error)) from None


def _tags(value: Any) -> list[str]:
    pieces = value if isinstance(value, list) else TAG_SEPARATORS.split(fields.text(value))
    tags: dict[str, str] = {}
    for piece in pieces:
        raw = fields.text(piece)
        if not raw:
            continue
        try:
            name = normalize_tag_name(raw)
        except ValidationError as error:
            raise fields.CellError(fields.message_of(error)) from None
        tags.setdefault(name.lower(), name)
    return list(tags.values())


def contacts_import(
    *,
    path: Path | str,
    rejects_path: Path | str | None = None,
    dry_run: bool = False,
    progress: bool = False,
    mapping: dict[str, str] | None = None,
    job: ImportJob | None = None,
    on_bytes: Callable[[int], object] | None = None,
) -> ContactImportResult:
    """Import a CSV or JSON Lines file of contacts. Raises ImportFileError, with nothing
    written, when the file as a whole cannot be read."""
    with open_for_import(path=path, required=("email",), mapping=mapping, on_bytes=on_bytes) as source:
        rejects = RejectsFile(path=rejects_path, columns=source.reject_columns)
        counts, job = import_run(
            kind=ImportJob.Kind.CONTACTS,
            source=source,
            rejects=rejects,
            dry_run=dry_run,
            job=job,
            work=lambda job: _import(source=source, rejects=rejects, job=job, progress=progress),
        )
    return ContactImportResult(job=job, **counts)


def _import(*, source: SourceFile, rejects: RejectsFile, job: ImportJob | None, progress: bool) -> dict:
    owners = {}
    for pk, username in get_user_model().objects.values_list("pk", "username"):
        owners[username] = pk
        owners.setdefault(username.lower(), pk)
    cleaner = _Cleaner(owners=owners)
    given_once = EmailsGivenOnce(source)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DROP TABLE IF EXISTS pg_temp.{STAGED};
            CREATE TEMP TABLE {STAGED} (
                seq bigint, line bigint, email text, first_name text, last_name text, job_title text,
                city text, source text, phone text, country text, timezone text, lifecycle_stage text,
                score integer, owner_id bigint, consent_email text, consent_sms text, attributes jsonb,
                tags text[], account_name text, account_domain text, account_industry text,
                account_employees integer, account_country text
            )
            """
        )

    def staged_rows() -> Iterator[tuple]:
        with progress_bar(total=source.size, unit="B", desc="reading", enabled=progress) as bar:
            for seq, record in enumerate(source.records(on_bytes=bar.update), start=1):
                if record.error:
                    rejects.add(line=record.line, original=record.original, reason=record.error)
                    continue
                try:
                    yield cleaner.row(seq, record.line, record.values)
                except _RowRejected as error:
                    rejects.add(line=record.line, original=record.original, reason=str(error))

    def routed(chunk: list[tuple]) -> tuple[int, bytes, int, bytes]:
        """The rows to apply at once, and those whose e-mail may be given again."""
        now: list[tuple] = []
        later: list[tuple] = []
        for row in chunk:
            (now if given_once(row[2]) else later).append(row)
        return (*copy_ready(now), *copy_ready(later))

    counts = {"created": 0, "updated": 0, "unchanged": 0, "merged": 0, "accounts_created": 0}
    staged = waiting = 0
    with row_triggers_off() as lock:
        applier = _Applier(job=job, file_name=source.path.name, counts=counts, lock=lock)
        with chunks_read_ahead(staged_rows(), size=COPY_ROWS, prepare=routed, depth=AHEAD) as chunks:
            for now_rows, now_data, later_rows, later_data in chunks:
                if later_rows:
                    copy_data(table=STAGED, columns=STAGED_COLUMNS, data=later_data)
                    staged += later_rows
                if now_rows:
                    copy_data(table=CHUNK, columns=STAGED_COLUMNS, data=now_data)
                    waiting += now_rows
                if waiting >= CHUNK_ROWS:
                    applier.chunk(waiting)
                    waiting = 0
        if waiting:
            applier.chunk(waiting)
        counts["merged"] = _merge_duplicates()
        if staged:
            applier.staged(rows=staged - counts["merged"], progress=progress)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGED}; DROP TABLE IF EXISTS pg_temp.{CHUNK}")
    return counts


def _last_non_empty(column: str, *, alias: bool = True) -> str:
    """The value of the latest row that gave one: later rows win, empty cells do not count."""
    value = f"(array_agg({column} ORDER BY seq DESC) FILTER (WHERE {column} <> ''))[1]"
    return f"COALESCE({value}, '') AS {column}" if alias else value


def _last_given(column: str) -> str:
    return f"(array_agg({column} ORDER BY seq DESC) FILTER (WHERE {column} IS NOT NULL))[1] AS {column}"


def _merge_duplicates() -> int:
    """Fold the rows of each e-mail given more than once into one; returns how many rows
    were folded away. The merged row keeps the first row's place (seq) in the file."""
    texts = [
        *TEXT_FIELDS, "phone", "country", "timezone", "lifecycle_stage", "consent_email", "consent_sms",
        "account_name", "account_domain", "account_industry", "account_country",
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{MERGED}")
        cursor.execute(
            f"""
            CREATE TEMP TABLE {MERGED} AS
            SELECT email, count(*) AS n FROM {STAGED} GROUP BY email HAVING count(*) > 1
            """
        )
        if not cursor.rowcount:
            cursor.execute(f"DROP TABLE pg_temp.{MERGED}")
            return 0
        folded_columns = ", ".join(
            [
                *(_last_non_empty(column) for column in texts),
                *(_last_given(column) for column in ("score", "owner_id", "account_employees")),
            ]
        )
        cursor.execute(
            f"""
            CREATE INDEX ON {STAGED} (email);
            CREATE TEMP TABLE {MERGED}_rows AS
            SELECT min(s.seq) AS seq, min(s.line) AS line, s.email, {folded_columns},
                   (SELECT COALESCE(jsonb_object_agg(e.key, e.value ORDER BY s2.seq), '{{}}'::jsonb)
                      FROM {STAGED} s2, jsonb_each(s2.attributes) e WHERE s2.email = s.email) AS attributes,
                   (SELECT COALESCE(array_agg(DISTINCT t), '{{}}')
                      FROM {STAGED} s2, unnest(s2.tags) t WHERE s2.email = s.email) AS tags
              FROM {STAGED} s JOIN {MERGED} USING (email)
             GROUP BY s.email;
            DELETE FROM {STAGED} WHERE email IN (SELECT email FROM {MERGED});
            """
        )
        merged_columns = [
            "seq", "line", "email", *texts, "score", "owner_id", "account_employees", "attributes", "tags",
        ]  # fmt: skip
        column_list = ", ".join(merged_columns)
        cursor.execute(
            f"""
            INSERT INTO {STAGED} ({column_list}) SELECT {column_list} FROM {MERGED}_rows
            """
        )
        cursor.execute(f"SELECT COALESCE(sum(n - 1), 0) FROM {MERGED}")
        folded = int(cursor.fetchone()[0])
        cursor.execute(f"DROP TABLE pg_temp.{MERGED}; DROP TABLE pg_temp.{MERGED}_rows")
    return folded


def _changes_sql() -> str:
    """{field: [before, after]} for the fields an UPDATE changed; "old" is the row as the
    statement found it, "t" as it left it."""
    pairs = ", ".join(
        f"'{column}', CASE WHEN old.{column} IS DISTINCT FROM t.{column} "
        f"THEN jsonb_build_array(old.{column}, t.{column}) END"
        for column in COMPARED
    )
    return f"jsonb_strip_nulls(jsonb_build_object({pairs}))"


def _new_value_sql(column: str) -> str:
    if column in ("score", "owner_id", "account_id"):
        return f"COALESCE(c.{column}, t.{column})"
    if column == "attributes":
        return "t.attributes || c.attributes"
    return f"COALESCE(NULLIF(c.{column}, ''), t.{column})"


_INSERT_COLUMNS = [
    *TEXT_FIELDS, "phone", "country", "timezone", "lifecycle_stage", "owner_id", "account_id",
    "consent_email", "consent_sms", "attributes",
]  # fmt: skip
# A new contact from a chunk row: the chunk's columns, the rest the model's defaults.
NEW_CONTACT = insert_columns(
    Contact,
    {
        "email": "email", **{column: column for column in _INSERT_COLUMNS}, "score": "COALESCE(score, 0)",
        "created_at": "%(now)s", "updated_at": "%(now)s",
    },
)  # fmt: skip


class _Applier:
    """Applies the rows of the chunk table: accounts, tags, new contacts, changed
    contacts, their tags, consent history and one ledger action per affected contact."""

    def __init__(self, *, job: ImportJob | None, file_name: str, counts: dict, lock: bool) -> None:
        self.params = {
            **actor_params(),
            "now": timezone.now(),
            "file": file_name,
            "job": job.pk if job else None,
            "consent_source": f"import: {file_name}"[:200],
        }
        self.counts = counts
        self.lock = lock
        self.analyzed = False
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                DROP TABLE IF EXISTS pg_temp.{CHUNK};
                CREATE TEMP TABLE {CHUNK} AS SELECT * FROM {STAGED} WITH NO DATA;
                ALTER TABLE {CHUNK} ADD COLUMN account_id bigint, ADD COLUMN contact_id bigint,
                    ADD COLUMN outcome text, ADD COLUMN changes jsonb, ADD COLUMN tags_added jsonb;
                """
            )

    def chunk(self, chunk_rows: int) -> int:
        """Apply the chunk table's rows, then empty it; returns how many it applied."""
        with connection.cursor() as cursor:
            if not self.analyzed:
                # Later chunks look like the first: TRUNCATE keeps these statistics. Only
                # the columns the statements join or filter on, which is most of the saving.
                cursor.execute(f"ANALYZE {CHUNK} (seq, email, account_domain, account_name, tags)")
                self.analyzed = True
            applied = _apply_chunk(
                cursor, chunk_rows=chunk_rows, params=self.params, counts=self.counts, lock=self.lock
            )
            cursor.execute(f"TRUNCATE {CHUNK}")
        return applied

    def staged(self, *, rows: int, progress: bool) -> None:
        """Apply the staging table, CHUNK_ROWS at a time in the order of the file."""
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX ON {STAGED} (seq); ANALYZE {STAGED}")
            cursor.execute(f"SELECT COALESCE(max(seq), 0) FROM {STAGED}")
            last_seq = cursor.fetchone()[0]
        with progress_bar(total=rows, unit="rows", desc="importing", enabled=progress) as bar:
            for low in range(0, last_seq, CHUNK_ROWS):
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {CHUNK} SELECT * FROM {STAGED} WHERE seq > %(low)s AND seq <= %(high)s",
                        {"low": low, "high": low + CHUNK_ROWS},
                    )
                    chunk_rows = cursor.rowcount
                if chunk_rows:
                    bar.update(self.chunk(chunk_rows))


def _apply_chunk(cursor: CursorWrapper, *, chunk_rows: int, params: dict, counts: dict, lock: bool) -> int:
    """The statements that apply the chunk table's rows; returns how many rows they took."""
    # Accounts: by domain, else by name (the same name in any case is the same company).
    cursor.execute(
        f"""
        WITH wanted AS (
            SELECT account_domain AS domain,
                   COALESCE({_last_non_empty("account_name", alias=False)}, account_domain)
                       AS name,
                   {_last_non_empty("account_industry")},
                   {_last_given("account_employees")},
                   {_last_non_empty("account_country")}
              FROM {CHUNK} WHERE account_domain <> '' GROUP BY account_domain
        ), by_name AS (
            SELECT DISTINCT ON (upper(account_name)) '' AS domain, account_name AS name,
                   account_industry, account_employees, account_country
              FROM {CHUNK} c
             WHERE account_domain = '' AND account_name <> ''
               AND NOT EXISTS (
                   SELECT 1 FROM contacts_account a WHERE upper(a.name) = upper(c.account_name)
               )
             ORDER BY upper(account_name), seq DESC
        ), made AS (
            INSERT INTO contacts_account (name, domain, industry, employees, country, attributes,
                                          created_at, updated_at)
            SELECT name, domain, account_industry, account_employees, account_country, '{{}}',
                   %(now)s, %(now)s
              FROM (SELECT * FROM wanted UNION ALL SELECT * FROM by_name) w
            ON CONFLICT (domain) WHERE NOT (domain = '') DO NOTHING
            RETURNING id, name, domain
        )
        {ACTIONS_INSERT}
        SELECT {LEDGER_ACTOR_VALUES}, 'account.imported', NULL, 'contacts.account', id::text, '',
               jsonb_build_object('file', %(file)s, 'import_job', %(job)s, 'name', name,
                                  'domain', domain)
          FROM made
        """,
        params,
    )
    counts["accounts_created"] += cursor.rowcount
    cursor.execute(
        f"""
        UPDATE {CHUNK} c SET account_id = a.id FROM contacts_account a
         WHERE c.account_domain <> '' AND a.domain = c.account_domain;
        UPDATE {CHUNK} c SET account_id = a.id
          FROM (SELECT DISTINCT ON (upper(name)) upper(name) AS key, id FROM contacts_account
                 WHERE upper(name) IN (SELECT upper(account_name) FROM {CHUNK}
                                        WHERE account_domain = '' AND account_name <> '')
                 ORDER BY upper(name), id) a
         WHERE c.account_domain = '' AND c.account_name <> '' AND upper(c.account_name) = a.key;
        INSERT INTO contacts_tag (name, created_at)
        SELECT DISTINCT ON (lower(t)) t, %(now)s
          FROM {CHUNK}, unnest(tags) t ORDER BY lower(t), seq
        ON CONFLICT (lower(name)) DO NOTHING;
        """,
        params,
    )
    # New contacts. Ids follow the order of the rows in the chunk.
    cursor.execute(
        f"""
        WITH made AS (
            INSERT INTO contacts_contact ({NEW_CONTACT[0]})
            SELECT {NEW_CONTACT[1]}
              FROM {CHUNK} c
             -- Filtering out the people already known costs far less than ON
             -- CONFLICT finding them one by one; it remains for anyone created
             -- meanwhile.
             WHERE NOT EXISTS (SELECT 1 FROM contacts_contact t WHERE t.email = c.email)
             ORDER BY seq
            ON CONFLICT (email) DO NOTHING
            RETURNING id, email
        )
        UPDATE {CHUNK} c SET contact_id = made.id, outcome = 'created'
          FROM made WHERE c.email = made.email
        """,
        params,
    )
    if cursor.rowcount < chunk_rows:
        _update_known(cursor=cursor, params=params)
    if lock:
        _lock_references(cursor)
    # Tags: a contact given a tag it did not have is an updated contact too.
    cursor.execute(
        f"""
        WITH added AS (
            INSERT INTO contacts_contacttag (contact_id, tag_id, added_at)
            SELECT c.contact_id, tag.id, %(now)s
              FROM {CHUNK} c, unnest(c.tags) u(name), contacts_tag tag
             WHERE lower(tag.name) = lower(u.name)
            ON CONFLICT (contact_id, tag_id) DO NOTHING
            RETURNING contact_id, tag_id
        ), per_contact AS (
            SELECT added.contact_id, jsonb_agg(tag.name ORDER BY tag.name) AS names
              FROM added JOIN contacts_tag tag ON tag.id = added.tag_id
             GROUP BY added.contact_id
        )
        UPDATE {CHUNK} c SET tags_added = per_contact.names,
                             outcome = COALESCE(c.outcome, 'tagged')
          FROM per_contact WHERE c.contact_id = per_contact.contact_id;
        UPDATE contacts_contact t SET updated_at = %(now)s
          FROM {CHUNK} c WHERE c.outcome = 'tagged' AND t.id = c.contact_id;
        UPDATE {CHUNK} SET outcome = 'updated' WHERE outcome = 'tagged';
        """,
        params,
    )
    # Consent history, then one ledger action per affected contact.
    consent_parts = " UNION ALL ".join(
        f"""
        SELECT contact_id, line, '{channel}' AS channel,
               CASE WHEN outcome = 'created' THEN ''
                    ELSE changes->'consent_{channel}'->>0 END AS old,
               CASE WHEN outcome = 'created' THEN consent_{channel}
                    ELSE changes->'consent_{channel}'->>1 END AS new
          FROM {CHUNK}
         WHERE (outcome = 'created' AND consent_{channel} <> '') OR changes ? 'consent_{channel}'
        """
        for channel in ("email", "sms")
    )
    cursor.execute(
        f"""
        INSERT INTO contacts_consentchange (contact_id, channel, status, previous_status,
            changed_at, actor_kind, actor_name, source, evidence)
        SELECT contact_id, channel, new, old, %(now)s, %(actor_kind)s, %(actor_name)s,
               %(consent_source)s,
               jsonb_build_object('file', %(file)s, 'line', line, 'import_job', %(job)s)
          FROM ({consent_parts}) consent;
        {ACTIONS_INSERT}
        SELECT {LEDGER_ACTOR_VALUES},
               CASE outcome WHEN 'created' THEN 'contact.imported' ELSE 'contact.updated' END,
               contact_id, 'contacts.contact', contact_id::text, '',
               jsonb_strip_nulls(jsonb_build_object('file', %(file)s, 'import_job', %(job)s,
                   'line', line, 'changes', changes, 'tags_added', tags_added))
          FROM {CHUNK} WHERE outcome IS NOT NULL ORDER BY seq
        """,
        params,
    )
    cursor.execute(
        f"""
        SELECT count(*) FILTER (WHERE outcome = 'created'),
               count(*) FILTER (WHERE outcome = 'updated'),
               count(*) FILTER (WHERE outcome IS NULL)
          FROM {CHUNK}
        """
    )
    created, updated, unchanged = cursor.fetchone()
    counts["created"] += created
    counts["updated"] += updated
    counts["unchanged"] += unchanged
    return created + updated + unchanged


def _lock_references(cursor: CursorWrapper) -> None:
    """What the foreign keys of the chunk's rows would lock, with their triggers off (see
    contacts.imports.integrity): the accounts, owners and contacts they name, and the tags
    about to be given, whose rows the tag insert below finds again by name."""
    for table, ids_sql in (
        (Account._meta.db_table, f"SELECT account_id FROM {CHUNK}"),
        (get_user_model()._meta.db_table, f"SELECT owner_id FROM {CHUNK}"),
        # The contacts created by this chunk are seen by no one else until the commit.
        (Contact._meta.db_table, f"SELECT contact_id FROM {CHUNK} WHERE outcome IS DISTINCT FROM 'created'"),
    ):
        lock_referenced(cursor, table=table, ids_sql=ids_sql)
    cursor.execute(
        f"""
        SELECT 1 FROM contacts_tag
         WHERE lower(name) IN (SELECT lower(u.name) FROM {CHUNK}, unnest(tags) u(name))
           FOR KEY SHARE
        """
    )


def _update_known(*, cursor: CursorWrapper, params: dict) -> None:
    """The chunk's contacts that existed before it: those whose values change are updated.
    Joining the table a second time ("old") gives the values before the update, for the
    ledger and the consent history. Skipped when every contact of a chunk is new, where
    it would find nothing at the price of a scan of the contacts."""
    new_values = ", ".join(f"{column} = {_new_value_sql(column)}" for column in COMPARED)
    changed = " OR ".join(f"t.{column} IS DISTINCT FROM {_new_value_sql(column)}" for column in COMPARED)
    cursor.execute(
        f"""
        WITH changed AS (
            UPDATE contacts_contact t SET {new_values}, updated_at = %(now)s
              FROM {CHUNK} c, contacts_contact old
             WHERE c.outcome IS NULL AND t.email = c.email AND old.id = t.id AND ({changed})
            RETURNING t.id, c.seq, {_changes_sql()} AS changes
        )
        UPDATE {CHUNK} c
           SET contact_id = changed.id, outcome = 'updated', changes = changed.changes
          FROM changed WHERE c.seq = changed.seq;
        UPDATE {CHUNK} c SET contact_id = t.id FROM contacts_contact t
         WHERE c.contact_id IS NULL AND t.email = c.email;
        """,
        params,
    )
