"""`segment_incremental`: 50 active segments; a new touchpoint re-evaluates the segments
that read its kind, for its contact only. Target: median under 20 ms. Baseline: one
SELECT of the same compiled predicates for that contact, without the diff.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

from django.db import connection
from django.utils import timezone

from bench import benchmark, result, rolled_back
from bench.segment_data import generated
from contacts.models import Touchpoint
from ledger.context import Actor, acting_as
from segments.conditions.compiler import from_sql
from segments.evaluation import compiled, parsed
from segments.membership import apply_diff
from segments.services import segment_create, segments_react_to_touchpoints


def _incremental_trees() -> list[dict]:
    """50 segments as a team has them: countries, stages, clicks, visits, forms."""
    trees = []
    countries = ["FR", "BE", "DE", "GB", "US"]
    for index in range(50):
        kind = ["email_click", "page_view", "form_submit", "webinar_registration", "email_open"][index % 5]
        trees.append(
            {
                "all": [
                    {"field": "country", "op": "eq", "value": countries[index % 5]},
                    {
                        "touchpoint": {"kind": kind},
                        "count": {"op": "gte", "value": 1 + index % 3},
                        "within": "30d",
                    },
                    {"not": {"field": "lifecycle_stage", "op": "eq", "value": "customer"}},
                ]
            }
        )
    return trees


@benchmark(
    "segment_incremental", default_scale=100_000, description="one touchpoint re-forms its contact's segments"
)
def segment_incremental(scale: int) -> Iterator[dict]:
    lines = []
    with generated(scale), rolled_back(), acting_as(Actor.for_task("bench")):
        segments = [
            segment_create(name=f"Bench incremental {index}", conditions=tree)
            for index, tree in enumerate(_incremental_trees())
        ]
        now = timezone.now()
        for segment in segments:
            apply_diff(segment, now=now)
        contact_ids = list(Touchpoint.objects.order_by().values_list("contact_id", flat=True).distinct()[:60])
        reaction, evaluation = [], []
        plans = [compiled(parsed(segment.conditions), now=now, mode="one") for segment in segments[::5]]
        joins = set().union(*(plan.joins for plan in plans))
        select = f"SELECT {', '.join(plan.sql for plan in plans)} FROM {from_sql(joins)} WHERE c.id = %s"
        params = [param for plan in plans for param in plan.params]
        for contact_id in contact_ids:
            touchpoint = Touchpoint.objects.create(
                contact_id=contact_id, kind_id="email_click", channel="email"
            )
            started = time.perf_counter()
            segments_react_to_touchpoints(touchpoint_ids=[touchpoint.pk])
            reaction.append(time.perf_counter() - started)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(select, [*params, contact_id])
                cursor.fetchone()
            evaluation.append(time.perf_counter() - started)
        seconds = statistics.median(reaction[10:])
        lines.append(
            result(
                bench="segment_incremental",
                n=scale,
                seconds=seconds,
                baseline="one SELECT of the affected segments' compiled predicates for the contact",
                baseline_seconds=statistics.median(evaluation[10:]),
                per="touchpoint",
                segments=len(segments),
                affected_per_touchpoint=len(segments) // 5,
                p95_seconds=round(sorted(reaction[10:])[int(len(reaction[10:]) * 0.95) - 1], 6),
                target_median_seconds=0.020,
            )
        )
    yield from lines
