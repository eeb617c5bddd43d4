"""`segment_rebuild`: N contacts with 10 touchpoints each on average; the full rebuild of
two trees (the example of conditions.md, and one with `not`, `account_touchpoint` and a
numeric attribute), once from empty and then again as the periodic rebuild does (the
diff against the current members). Target: under 5 s each at 1,000,000 contacts, within
1.5x of the baseline: a hand-written SQL query counting the same contacts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from django.db import connection
from django.utils import timezone

from bench import benchmark, median_seconds, result, rolled_back
from bench.segment_data import TREES, generated
from ledger.context import Actor, acting_as
from segments.membership import apply_diff
from segments.services import segment_create


def _count(sql: str, now) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"now": now})
        return cursor.fetchone()[0]


@benchmark(
    "segment_rebuild",
    default_scale=1_000_000,
    description="full rebuild of two segments, vs hand-written SQL",
)
def segment_rebuild(scale: int) -> Iterator[dict]:
    lines = []
    with generated(scale) as generate_seconds, rolled_back(), acting_as(Actor.for_command("bench")):
        for name, tree, baseline_sql in TREES:
            segment = segment_create(name=f"Bench {name}", conditions=tree)
            # One clock for the product and the baseline: their 7-day windows are the same.
            now = timezone.now()
            started = time.perf_counter()
            first = apply_diff(segment, now=now)
            first_seconds = time.perf_counter() - started
            expected = _count(baseline_sql, now)
            baseline_seconds = median_seconds(lambda sql=baseline_sql, now=now: _count(sql, now), repeat=3)
            diffs = []

            def rebuild(segment=segment, diffs=diffs, now=now):
                diffs.append(apply_diff(segment, now=now))

            seconds = median_seconds(rebuild, repeat=3)
            lines.append(
                result(
                    bench="segment_rebuild",
                    n=scale,
                    seconds=seconds,
                    baseline="hand-written SQL counting the same contacts",
                    baseline_seconds=baseline_seconds,
                    per="rebuild",
                    tree=name,
                    members=first.size,
                    agrees_with_baseline=first.size == expected,
                    first_build_seconds=round(first_seconds, 3),
                    changed_on_rebuild=sum(diff.entered + diff.exited for diff in diffs),
                    touchpoints=scale * 10,
                    generate_seconds=round(generate_seconds, 1),
                    target_seconds=5,
                )
            )
    yield from lines
