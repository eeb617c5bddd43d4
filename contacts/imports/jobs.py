"""What every import shares: the job row that remembers the run, the one transaction
that makes a file all-or-nothing, the dry run, the progress bar and the ledger's actor."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from contacts.imports.reader import ImportFileError, SourceFile, open_source
from contacts.imports.rejects import RejectsFile
from contacts.models import ImportJob
from ledger.context import current_actor

# Rows merged per round of set-based statements: large enough that the per-statement
# overhead vanishes, small enough that each statement's temporary data stays small.
CHUNK_ROWS = 50_000
# Rows per COPY into a staging table, and how many such pieces the read-ahead may hold:
# a whole chunk, read and cleaned while the chunk before is applied, in pieces small
# enough that the rows in memory stay few.
COPY_ROWS = 10_000
AHEAD = CHUNK_ROWS // COPY_ROWS + 1


def open_for_import(
    *,
    path: Path | str,
    required: Sequence[str],
    mapping: dict[str, str] | None,
    on_bytes: Callable[[int], object] | None,
) -> SourceFile:
    """Open the file under the person's column mapping and refuse it, before anything is
    written, when a column the import cannot do without is missing."""
    source = open_source(path)
    if mapping:
        source.rename(mapping)
    source.progress_hook = on_bytes
    if source.format == "csv":
        present = {column.lower() for column in source.columns}
        missing = [column for column in required if column not in present]
        if missing:
            source.close()
            has = ", ".join(repr(column) for column in source.columns if column) or "nothing"
            raise ImportFileError(
                f"the header has no {', '.join(repr(column) for column in missing)} column (it has: {has})"
            )
    return source


def import_job_start(*, kind: str, file_name: str) -> ImportJob:
    actor = current_actor()
    return ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:500],
        actor_kind=actor.kind,
        actor_name=actor.name[:200],
        user_id=actor.user_id,
    )


def import_job_finish(*, job: ImportJob, counts: dict[str, int], error: str = "") -> ImportJob:
    job.status = ImportJob.Status.FAILED if error else ImportJob.Status.DONE
    job.counts = counts
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "counts", "error", "finished_at"])
    return job


def import_settings() -> None:
    """Larger sort and hash memory, and a larger GIN pending list so that the trigram
    indexes are fed in big batches: for the enclosing transaction only."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")


def import_run(
    *,
    kind: str,
    source: SourceFile,
    rejects: RejectsFile,
    dry_run: bool,
    work: Callable[[ImportJob | None], dict[str, int]],
    job: ImportJob | None = None,
) -> tuple[dict[str, int], ImportJob | None]:
    """Run work(job) in one transaction: a file that fails half-way (a Latin-1 byte on
    line 900,000) leaves nothing behind. A dry run does everything, then rolls back,
    so its counts are the real ones. The job row lives outside that transaction."""
    if job is None and not dry_run:
        job = import_job_start(kind=kind, file_name=source.path.name)
    try:
        with transaction.atomic():
            import_settings()
            counts = work(job)
            with connection.cursor() as cursor:
                # The foreign keys of every row written are checked now rather than at
                # commit: a violation fails the import with its own error, and the import's
                # duration includes the checks. Django declares all of them deferred, which
                # the second statement restores for the rest of an enclosing transaction.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            counts["rejected"] = rejects.count
            if dry_run:
                transaction.set_rollback(True)
    except BaseException as error:
        rejects.discard()
        if job is not None:
            import_job_finish(job=job, counts={}, error=str(error) or type(error).__name__)
        raise
    rejects.close()
    if job is not None:
        import_job_finish(job=job, counts=counts)
    return counts, job


@contextmanager
def progress_bar(*, total: int, unit: str, desc: str, enabled: bool) -> Iterator[Any]:
    """A bar on the terminal's stderr; nothing when stderr is not a terminal."""
    bar = tqdm(
        total=total,
        unit=unit,
        unit_scale=True,
        desc=desc,
        disable=not enabled,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )
    try:
        yield bar
    finally:
        bar.close()


# The ledger rows an import writes with the ledger's ACTIONS_INSERT ... SELECT: the first six
# of its columns given by LEDGER_ACTOR_VALUES, whose parameters are actor_params() and "now".
LEDGER_ACTOR_VALUES = "%(now)s, %(actor_kind)s, %(actor_type)s, %(actor_id)s, %(actor_name)s, 'import'"


def actor_params() -> dict[str, Any]:
    """The ledger's actor columns, as SQL parameters."""
    actor = current_actor()
    return {
        "actor_kind": actor.kind,
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_name": actor.name[:200],
    }
