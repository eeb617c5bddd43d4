"""`import_touchpoints` at scale: N touchpoints of N/10 known contacts, with external ids.

Target: at least 50,000 rows/s. Baseline: PostgreSQL's own COPY of the same file into an
unindexed temporary table of text columns. Beside it, the floor (bench.floor):
the rows this import wrote, COPYed again into the same tables.
"""

from __future__ import annotations

import csv
import json
import random
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from bench import benchmark, rolled_back
from bench.floor import timed_import
from bench.import_contacts import WRITTEN, import_result, raw_copy_seconds
from contacts.imports.touchpoints import touchpoints_import
from contacts.models import Contact
from demo.seed import PAGES, demo_contacts_copy
from ledger.context import Actor, acting_as

COLUMNS = ["email", "kind", "occurred_at", "source", "external_id", "properties"]
KINDS = [
    ("page_view", 60),
    ("email_open", 20),
    ("email_click", 8),
    ("webinar_registration", 6),
    ("ad_click", 6),
]


def write_touchpoints_csv(path: Path, *, emails: list[str], count: int, seed: int = 11) -> None:
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    kinds, weights = zip(*KINDS, strict=True)
    paths = [page for page, _ in PAGES]
    start = timezone.now() - timedelta(days=90)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for i in range(count):
            kind = rng.choices(kinds, weights)[0]
            properties = {"path": rng.choice(paths)} if kind == "page_view" else {"campaign": "nurture"}
            writer.writerow(
                [
                    rng.choice(emails),
                    kind,
                    (start + timedelta(seconds=rng.randint(0, 90 * 86400))).isoformat(),
                    "webinar tool export",
                    f"bench-{i}",
                    json.dumps(properties),
                ]
            )


@benchmark(
    "import_touchpoints",
    default_scale=1_000_000,
    description="import_touchpoints of a CSV export, vs raw COPY",
)
def import_touchpoints(scale: int) -> Iterator[dict]:
    lines: list[dict] = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "touchpoints.csv"
        with rolled_back(vacuum=WRITTEN), acting_as(Actor.for_command("bench")):
            demo_contacts_copy(count=max(1, scale // 10))
            emails = list(Contact.objects.values_list("email", flat=True)[: max(1, scale // 10)])
            write_touchpoints_csv(path, emails=emails, count=scale)
            del emails
            baseline_seconds = raw_copy_seconds(path, len(COLUMNS))
            outcome, seconds, saved = timed_import(
                lambda: touchpoints_import(path=path), tables=WRITTEN, directory=Path(directory)
            )
        lines.append(
            import_result(
                bench="import_touchpoints",
                path=path,
                rows=scale,
                seconds=seconds,
                baseline_seconds=baseline_seconds,
                saved=saved,
                target_per_second=50_000,
                created=outcome.created,
                duplicate=outcome.duplicate,
                rejected=outcome.rejected,
            )
        )
    yield from lines
