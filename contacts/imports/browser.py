"""The import as a person does it in the browser: upload a file, map its columns to
fields with a preview, and let a worker run it while the page shows how far it got.

The import itself is the same code as the commands'; what a person imports this way is
manual work in the ledger, done by that person, even though a worker carries it out.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import psycopg
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from contacts import dispatch
from contacts.imports import contacts as contact_import
from contacts.imports import touchpoints as touchpoint_import
from contacts.imports.reader import ImportFileError, open_source
from contacts.models import ImportJob
from ledger.context import Actor, acting_as

PREVIEW_ROWS = 5
IGNORE = ""
FIELDS = {
    ImportJob.Kind.CONTACTS: sorted(contact_import.KNOWN_COLUMNS - {"attributes"}),
    ImportJob.Kind.TOUCHPOINTS: sorted(touchpoint_import.KNOWN_COLUMNS),
}
REQUIRED = {ImportJob.Kind.CONTACTS: ("email",), ImportJob.Kind.TOUCHPOINTS: touchpoint_import.REQUIRED}
# Headers people really use for the fields, compared after lower-casing and squashing
# spaces, dashes and dots to underscores.
SYNONYMS = {
    "e_mail": "email", "mail": "email", "email_address": "email", "firstname": "first_name",
    "first": "first_name", "given_name": "first_name", "lastname": "last_name", "surname": "last_name",
    "last": "last_name", "family_name": "last_name", "company": "account_name",
    "organisation": "account_name", "organization": "account_name", "company_name": "account_name",
    "domain": "account_domain",
    "website": "account_domain", "industry": "account_industry", "employees": "account_employees",
    "title": "job_title", "position": "job_title", "mobile": "phone", "telephone": "phone",
    "stage": "lifecycle_stage", "date": "occurred_at", "timestamp": "occurred_at", "type": "kind",
    "event": "kind", "id": "external_id", "event_id": "external_id",
}  # fmt: skip
PROGRESS_EVERY_SECONDS = 0.5


def _key(column: str) -> str:
    return re.sub(r"[\s\-.]+", "_", column.strip().lower())


def suggested_mapping(*, kind: str, columns: list[str]) -> dict[str, str]:
    """Each column's likely field; a column that matches none keeps its own name (it then
    lands in attributes, or in properties for touchpoints)."""
    fields = set(FIELDS[kind])
    mapping = {}
    for column in columns:
        key = _key(column)
        mapping[column] = key if key in fields else SYNONYMS.get(key, column) if column else IGNORE
    return mapping


@transaction.atomic
def import_upload(*, kind: str, uploaded: UploadedFile, user) -> ImportJob:
    """Keep the file and read its header. A file that cannot be read is refused now,
    with the reason, rather than after the person mapped its columns."""
    if kind not in FIELDS:
        raise ValidationError({"kind": f"unknown import kind {kind!r}"})
    job = ImportJob(
        kind=kind,
        file_name=Path(uploaded.name).name[:500],
        status=ImportJob.Status.UPLOADED,
        actor_kind="manual",
        actor_name=user.get_username(),
        user=user,
        bytes_total=uploaded.size or 0,
    )
    job.upload.save(Path(uploaded.name).name, uploaded, save=False)
    try:
        with open_source(job.upload.path) as source:
            columns = list(source.columns)
            file_format = source.format
        import_preview(job=job)  # what the mapping page will show must be readable now
    except ImportFileError as error:
        job.upload.delete(save=False)
        raise ValidationError({"file": str(error)}) from error
    job.mapping = suggested_mapping(kind=kind, columns=columns) if file_format == "csv" else {}
    job.save()
    return job


def import_preview(*, job: ImportJob) -> tuple[list[str], list[list[str]]]:
    """The file's columns and its first rows, as the person will see them in the mapping."""
    with open_source(job.upload.path) as source:
        columns = list(source.columns)
        rows = []
        for record in source.records():
            if source.format == "csv":
                rows.append([str(record.values.get(column, "")) for column in columns])
            else:
                rows.append(record.original)
            if len(rows) == PREVIEW_ROWS:
                break
    return columns, rows


@transaction.atomic
def import_queue(*, job: ImportJob, mapping: dict[str, str]) -> ImportJob:
    """Accept the person's mapping and hand the job to a worker."""
    if job.status != ImportJob.Status.UPLOADED:
        raise ValidationError(f"this import is already {job.get_status_display().lower()}")
    targets = [target for target in mapping.values() if target]
    doubled = sorted(
        {target for target in targets if targets.count(target) > 1 and target in FIELDS[job.kind]}
    )
    if doubled:
        raise ValidationError(f"more than one column is mapped to {', '.join(doubled)}")
    if mapping:
        missing = [field for field in REQUIRED[job.kind] if field not in targets]
        if missing:
            raise ValidationError(f"map a column to {', '.join(missing)}: the import needs it")
    job.mapping = mapping
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["mapping", "status"])
    transaction.on_commit(lambda: dispatch.import_job_run_soon(job.pk))
    return job


class _Progress:
    """Writes how far the worker has read on a connection of its own, in autocommit: the
    import's transaction would hide it until the end."""

    def __init__(self, job: ImportJob):
        params = connection.get_connection_params()
        keep = {key: params[key] for key in ("dbname", "user", "password", "host", "port") if params.get(key)}
        self.connection = psycopg.connect(**keep, autocommit=True)
        self.job_id = job.pk
        self.done = 0
        self.written_at = 0.0

    def __call__(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.written_at >= PROGRESS_EVERY_SECONDS:
            self.written_at = now
            self.connection.execute(
                "UPDATE contacts_importjob SET bytes_done = %s WHERE id = %s", [self.done, self.job_id]
            )

    def close(self) -> None:
        self.connection.close()


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job once: a redelivered task finds it no longer queued and does nothing."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    run = (
        contact_import.contacts_import
        if job.kind == ImportJob.Kind.CONTACTS
        else touchpoint_import.touchpoints_import
    )
    rejects_path = Path(job.upload.path).with_suffix(".rejects.csv")
    progress = _Progress(job)
    try:
        with acting_as(Actor.for_user(job.user)):
            result = run(
                path=job.upload.path,
                rejects_path=rejects_path,
                mapping=job.mapping,
                job=job,
                on_bytes=progress,
            )
    except ImportFileError as error:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
        return ImportJob.objects.get(pk=job_id)
    finally:
        progress.close()
    job.refresh_from_db()
    if result.rejected and rejects_path.exists():
        with rejects_path.open("rb") as rejects:
            job.rejects.save(f"{Path(job.file_name).stem}-rejects.csv", File(rejects), save=False)
        rejects_path.unlink()
    job.bytes_done = job.bytes_total
    job.save(update_fields=["rejects", "bytes_done"])
    return job
