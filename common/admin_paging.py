"""Admin pagination that stays fast on tables of millions of rows.

Django's paginator runs COUNT(*) for every changelist page, which scans the whole
table in PostgreSQL. An unfiltered list uses the planner's row estimate instead;
a filtered one counts exactly while that is cheap and falls back to the planner's
estimate when the count would take longer than a page should.
"""

from __future__ import annotations

import json
import logging

from django.core.paginator import Paginator
from django.db import OperationalError, connections, transaction
from django.utils.functional import cached_property

logger = logging.getLogger(__name__)

EXACT_BELOW = 100_000
COUNT_TIMEOUT_MS = 150


def table_row_estimate(queryset) -> int:
    """pg_class.reltuples: kept current by autovacuum and ANALYZE; -1 when never analysed."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def planner_row_estimate(queryset) -> int:
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset, *, timeout_ms: int = COUNT_TIMEOUT_MS) -> int | None:
    """COUNT(*) if it finishes within timeout_ms, else None."""
    try:
        with transaction.atomic(using=queryset.db), connections[queryset.db].cursor() as cursor:
            # A transaction-local setting outlives a released savepoint, so inside an outer
            # transaction it must be put back by hand; a failed count rolls it back itself.
            cursor.execute("SELECT current_setting('statement_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{int(timeout_ms)}ms"])
            count = queryset.count()
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return count
    except OperationalError:
        logger.info("count of %s took over %s ms; showing an estimate", queryset.model.__name__, timeout_ms)
        return None


class EstimatedCountPaginator(Paginator):
    """A paginator whose count is exact for small results and estimated for huge ones."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return super().count
        if not queryset.query.where:
            estimate = table_row_estimate(queryset)
            if estimate >= EXACT_BELOW:
                return estimate
        exact = bounded_count(queryset)
        if exact is not None:
            return exact
        return planner_row_estimate(queryset)
