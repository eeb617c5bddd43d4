"""The automation-ratio report at scale: the ratio of the last 90 days with the previous
90 days, its daily trend and the category breakdown, over a ledger of N actions.

Target: under 200 ms with 10,000,000 actions. The ledger spans 180 days and is rolled up,
then an hour's worth of actions more arrives that no roll has counted yet (twelve times what
the five-minute roll of CELERY_BEAT_SCHEDULE leaves): the report reads those live.
Baseline: a plain GROUP BY of the same 90 days over the ledger table, by day, category and
actor kind, i.e. what the report would cost without rollups.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from bench import benchmark, median_seconds, result, rolled_back
from ledger.counting import counted_verbs
from reporting.periods import Period
from reporting.selectors import action_breakdown, automation_ratio
from reporting.services import rollups_rebuild

SPAN_DAYS = 180
REPORT_DAYS = 90
BATCH = 1_000_000
CATEGORIES = [
    "data_capture", "data_capture", "data_capture", "email", "email", "enrichment", "scoring", "routing",
    "tagging", "segmentation", "import", "field_update", "sms", "ads", "personalisation",
    "campaign_management",
]  # fmt: skip
# A unit of work of each category (ledger.counting), and one verb of the engine's
# bookkeeping every tenth row, which the report must leave out.
VERBS = {
    "data_capture": "touchpoint.captured", "email": "email.sent", "enrichment": "contact.enriched",
    "scoring": "contact.scored", "routing": "lead.routed", "tagging": "tag.added",
    "segmentation": "segment.entered", "import": "contact.imported", "field_update": "contact.updated",
    "sms": "sms.sent", "ads": "audience.synced", "personalisation": "contact.updated",
    "campaign_management": "campaign.published",
}  # fmt: skip
BOOKKEEPING = "campaign.enrolled"
CHANNELS = ["web", "email", "events", "sms", "ads", "", "", "social"]
MACHINES = ["integration", "campaign", "rule", "task"]

# One set-based statement per batch, every column derived from the row number: about 1 %
# of the actions by hand, spread evenly over the span that ends at %(until)s. As in real
# ledgers, who acts depends on what is done: each category has its three machines (an
# integration, a campaign, a rule...) and its two channels, and seven people do the rest.
GENERATE_SQL = """
    INSERT INTO ledger_action (occurred_at, actor_kind, actor_type, actor_id, actor_name, category, verb,
                               contact_id, object_type, object_id, channel, details)
    SELECT %(until)s - (((g * 7919) %% %(seconds)s)::text || ' seconds')::interval,
           CASE WHEN manual THEN 'manual' ELSE 'algorithmic' END,
           CASE WHEN manual THEN 'user' ELSE (%(machines)s::text[])[1 + (c + g %% 3) %% 4] END,
           CASE WHEN manual THEN 1 + g %% 7 ELSE 1 + c * 3 + g %% 3 END,
           CASE WHEN manual THEN 'person-' || (1 + g %% 7)
                ELSE (%(machines)s::text[])[1 + (c + g %% 3) %% 4] || '-' || (1 + c * 3 + g %% 3) END,
           (%(categories)s::text[])[1 + c],
           CASE WHEN g %% 10 = 5 THEN %(bookkeeping)s ELSE (%(verbs)s::text[])[1 + c] END,
           g %% 250000, '', '', (%(channels)s::text[])[1 + (c + g %% 2) %% %(channel_count)s], '{}'::jsonb
      FROM (SELECT g, g %% 100 = 0 AS manual, (g / 3) %% %(category_count)s AS c
              FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g) AS rows
"""
BASELINE_SQL = """
    SELECT (occurred_at AT TIME ZONE %(tz)s)::date AS day, category, actor_kind, count(*)
      FROM ledger_action
     WHERE occurred_at >= %(start)s AND occurred_at < %(end)s AND verb = ANY(%(counted)s)
     GROUP BY 1, 2, 3
"""


def _generate(*, count: int, until, span: timedelta, offset: int = 0) -> None:
    params = {
        "until": until,
        "seconds": int(span.total_seconds()),
        "machines": MACHINES,
        "categories": CATEGORIES,
        "verbs": [VERBS[category] for category in CATEGORIES],
        "bookkeeping": BOOKKEEPING,
        "category_count": len(CATEGORIES),
        "channels": CHANNELS,
        "channel_count": len(CHANNELS),
    }
    with connection.cursor() as cursor:
        for first in range(1, count + 1, BATCH):
            last = min(count, first + BATCH - 1)
            cursor.execute(GENERATE_SQL, {**params, "first": offset + first, "last": offset + last})
            if count > BATCH:
                print(f"  {last:,} of {count:,} actions", file=sys.stderr, flush=True)


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_action; ANALYZE reporting_actionrollup")


@benchmark(
    "report_ratio",
    default_scale=10_000_000,
    description="the automation-ratio report (90 days, daily trend, categories) over N ledger actions",
)
def report_ratio(scale: int) -> Iterator[dict]:
    lines: list[dict] = []
    today = timezone.localdate()
    period = Period(start=today - timedelta(days=REPORT_DAYS - 1), end=today)
    with rolled_back():
        started = time.perf_counter()
        live = max(1, scale // (SPAN_DAYS * 24))
        an_hour_ago = timezone.now() - timedelta(hours=1)
        _generate(count=scale - live, until=an_hour_ago, span=timedelta(days=SPAN_DAYS))
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        rollups_rebuild()
        rollup_seconds = time.perf_counter() - started
        # the last hour's actions, recorded after the last roll: the report reads them live
        _generate(count=live, until=timezone.now(), span=timedelta(hours=1), offset=scale)
        _analyze()

        def report():
            ratio = automation_ratio(period=period, group_by="day")
            categories = action_breakdown(period=period, by="category")
            return ratio, categories

        def baseline():
            with connection.cursor() as cursor:
                tz = timezone.get_default_timezone_name()
                window = {"start": period.start_at, "end": period.end_before}
                cursor.execute(BASELINE_SQL, {"tz": tz, **window, "counted": counted_verbs()})
                return cursor.fetchall()

        ratio, categories = report()
        baseline_rows = baseline()
        expected = sum(row[3] for row in baseline_rows)
        if ratio.totals.total != expected:
            raise RuntimeError(f"the report counted {ratio.totals.total} actions, the ledger has {expected}")
        seconds = median_seconds(report)
        lines.append(
            result(
                bench="report_ratio",
                n=scale,
                seconds=seconds,
                baseline="plain GROUP BY day, category, actor kind over the ledger for the same 90 days",
                baseline_seconds=median_seconds(baseline, repeat=3),
                per="report",
                target_seconds=0.2,
                actions_in_period=expected,
                live_actions=live,
                ratio_label=ratio.totals.label,
                categories=len(categories),
                rollup_rows=_rollup_rows(),
                load_seconds=round(load_seconds, 1),
                rollup_seconds=round(rollup_seconds, 1),
            )
        )
    with connection.cursor() as cursor:
        if connection.in_atomic_block:  # inside a test's transaction VACUUM cannot run
            cursor.execute("ANALYZE ledger_action; ANALYZE reporting_actionrollup")
        else:
            # The rolled-back rows stay in the table as dead tuples until vacuumed; every
            # range scan of the ledger would wade through them. Statistics come back too.
            cursor.execute("VACUUM (ANALYZE) ledger_action, reporting_actionrollup")
    yield from lines


def _rollup_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reporting_actionrollup")
        return cursor.fetchone()[0]
