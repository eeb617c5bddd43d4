"""`import_contacts` at scale: a realistic export of N contacts, imported into the database.

Target: 1,000,000 contacts in under 60 s, peak RSS under 300 MB. Baseline: PostgreSQL's
own COPY of the same file into an unindexed temporary table of text columns, i.e. the
least that reading this file into the database could cost. Beside it, the floor
(bench.floor): the rows this import wrote, COPYed again into the same tables.
"""

from __future__ import annotations

import csv
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from django.db import connection

from bench import benchmark, result, rolled_back
from bench.floor import SavedRows, floor_fields, timed_import
from contacts.imports.contacts import contacts_import
from demo.seed import COUNTRIES, FREE_MAIL, INDUSTRIES, JOB_TITLES, STAGES, TAGS, _names
from ledger.context import Actor, acting_as

# Mobile prefixes and how many digits follow, so that every generated number is possible.
PHONES = {
    "FR": ("+336", 8), "DE": ("+49151", 8), "GB": ("+447700", 6), "US": ("+1212555", 4),
    "BE": ("+32470", 6), "NL": ("+316", 8), "ES": ("+346", 8), "IT": ("+39347", 7),
}  # fmt: skip
# What an import writes, vacuumed after each rolled-back run; referenced tables first.
WRITTEN = (
    "contacts_account", "contacts_tag", "contacts_contact", "contacts_contacttag", "contacts_consentchange",
    "contacts_touchpoint", "ledger_action",
)  # fmt: skip
COLUMNS = [
    "email", "first_name", "last_name", "phone", "job_title", "city", "country", "lifecycle_stage",
    "source", "score", "tags", "consent_email", "account_name", "account_domain", "account_industry", "plan",
]  # fmt: skip


def write_contacts_csv(path: Path, *, count: int, seed: int = 7) -> None:
    """Names are drawn once from Faker and then sampled: Faker per row would take minutes."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    names = _names(42)
    codes = list(COUNTRIES)
    companies = [(name, f"{''.join(ch for ch in name.lower() if ch.isalnum())}{i}.com") for i, name in
                 enumerate(names.companies * 60)][: max(1, count // 8)]  # fmt: skip
    stages = [stage for stage, _ in STAGES]
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for i in range(count):
            country = rng.choice(codes)
            cities = COUNTRIES[country][2]
            prefix, digits = PHONES[country]
            firsts, lasts = names.by_country[country]
            first, last = rng.choice(firsts), rng.choice(lasts)
            company = rng.choice(companies) if rng.random() < 0.75 else None
            domain = company[1] if company else rng.choice(FREE_MAIL)
            local = "".join(
                ch for ch in f"{first}.{last}".lower() if ch.isascii() and (ch.isalnum() or ch == ".")
            )
            writer.writerow(
                [
                    f"{local or 'x'}.{i}@{domain}",
                    first,
                    last,
                    f"{prefix}{rng.randrange(10**digits):0{digits}d}" if rng.random() < 0.5 else "",
                    rng.choice(JOB_TITLES),
                    rng.choice(cities),
                    country,
                    rng.choice(stages),
                    "trade show",
                    rng.randint(0, 100),
                    "|".join(rng.sample(TAGS, k=rng.choice([0, 0, 1, 2]))),
                    rng.choice(["subscribed", "subscribed", "unsubscribed", ""]),
                    company[0] if company else "",
                    company[1] if company else "",
                    rng.choice(INDUSTRIES) if company else "",
                    rng.choice(["free", "pro", "enterprise"]),
                ]
            )


def import_result(
    *,
    bench: str,
    path: Path,
    rows: int,
    seconds: float,
    baseline_seconds: float,
    saved: Sequence[SavedRows],
    **extra,
) -> dict:
    """The result line of an import benchmark: rows per second against the raw COPY of
    the file, and against the floor of the rows it wrote (`saved`)."""
    return result(
        bench=bench,
        n=rows,
        seconds=seconds,
        baseline="raw PostgreSQL COPY of the same file into an unindexed temp table",
        baseline_seconds=baseline_seconds,
        per="row",
        items=rows,
        file_mb=round(path.stat().st_size / 1e6, 1),
        **extra,
        **floor_fields(saved, seconds=seconds),
    )


def raw_copy_seconds(path: Path, columns: int) -> float:
    """PostgreSQL's COPY of the file as it is (no parsing in Python, no index, no checks)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS pg_temp.bench_raw_copy; CREATE TEMP TABLE bench_raw_copy ("
            + ", ".join(f"c{i} text" for i in range(columns))
            + ")"
        )
        started = time.perf_counter()
        with (
            cursor.copy("COPY bench_raw_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as f,
        ):
            while block := f.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE pg_temp.bench_raw_copy")
    return seconds


@benchmark(
    "import_contacts", default_scale=1_000_000, description="import_contacts of a CSV export, vs raw COPY"
)
def import_contacts(scale: int) -> Iterator[dict]:
    lines: list[dict] = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "contacts.csv"
        started = time.perf_counter()
        write_contacts_csv(path, count=scale)
        generate_seconds = time.perf_counter() - started
        with rolled_back(vacuum=WRITTEN), acting_as(Actor.for_command("bench")):
            baseline_seconds = raw_copy_seconds(path, len(COLUMNS))
            outcome, seconds, saved = timed_import(
                lambda: contacts_import(path=path), tables=WRITTEN, directory=Path(directory)
            )
        lines.append(
            import_result(
                bench="import_contacts",
                path=path,
                rows=scale,
                seconds=seconds,
                baseline_seconds=baseline_seconds,
                saved=saved,
                target_seconds=60,
                created=outcome.created,
                rejected=outcome.rejected,
                generate_seconds=round(generate_seconds, 1),
            )
        )
    yield from lines
