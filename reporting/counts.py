"""Counting ledger actions by any dimension over any period, from the rollups plus the
ledger rows that arrived after the last roll.

One statement reads both parts, and the mark that divides them, from one snapshot. The
live part is bounded by the mark read just before; if a roll moved the mark in between,
the statement says so and is run again, so an action is never counted twice or missed.
"""

# ruff: noqa: S608 - the SQL is assembled from this module's constants; values go as parameters

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.utils import timezone

from ledger.counting import counted_verbs
from reporting.models import ActionRollup, RollupMark
from reporting.periods import Period
from reporting.services import CAMPAIGN_SQL, DAY_SQL

# Expressions over the rows of either part; every key is also a column of the rollups.
GROUPS: dict[str, tuple[str, ...]] = {
    "day": ("day",),
    "week": ("date_trunc('week', day)::date",),
    "month": ("date_trunc('month', day)::date",),
    "category": ("category",),
    "verb": ("verb",),
    "channel": ("channel",),
    "campaign": ("campaign",),
    "actor_kind": ("actor_kind",),
    "actor": ("actor_type", "actor_id", "actor_name"),
}
FILTERABLE = ("category", "verb", "channel", "campaign", "actor_kind", "actor_type", "actor_name")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class CountRow:
    key: tuple
    algorithmic: int
    manual: int


def _where(filters: Mapping[str, str | Sequence[str]], params: dict) -> str:
    clauses = []
    for index, (column, value) in enumerate(sorted(filters.items())):
        if column not in FILTERABLE:
            raise ValueError(f"cannot filter on {column!r}; one of {', '.join(FILTERABLE)}")
        name = f"f{index}"
        if isinstance(value, str):
            clauses.append(f"{column} = %({name})s")
            params[name] = value
        else:
            clauses.append(f"{column} = ANY(%({name})s)")
            params[name] = list(value)
    return "".join(f" AND {clause}" for clause in clauses)


def _mark() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT through_id FROM {RollupMark._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def action_counts(
    *,
    period: Period,
    by: Sequence[str] = (),
    filters: Mapping[str, str | Sequence[str]] | None = None,
    counted: bool = True,
) -> list[CountRow]:
    """Algorithmic and manual actions in the period per group of `by` (one row, with an
    empty key, when `by` is empty). Groups with no actions are absent. Only units of work
    count (ledger.counting); `counted=False` reads the bookkeeping the rule leaves out."""
    unknown = [group for group in by if group not in GROUPS]
    if unknown:
        raise ValueError(f"cannot group by {unknown[0]!r}; one of {', '.join(GROUPS)}")
    expressions = [expression for group in by for expression in GROUPS[group]]
    params = {
        "tz": timezone.get_default_timezone_name(),
        "start": period.start,
        "end": period.end,
        "start_at": period.start_at,
        "end_before": period.end_before,
    }
    where = _where(filters or {}, params)
    params["counted"] = counted_verbs()
    where += " AND verb = ANY(%(counted)s)" if counted else " AND verb <> ALL(%(counted)s)"
    select_keys = "".join(f"{expression} AS k{i}, " for i, expression in enumerate(expressions))
    group_by = f"GROUP BY {', '.join(f'k{i}' for i in range(len(expressions)))}" if expressions else ""
    sql = f"""
        WITH parts AS (
            SELECT day, category, verb, channel, campaign, actor_kind, actor_type, actor_id, actor_name, count
              FROM {ActionRollup._meta.db_table}
             WHERE day >= %(start)s AND day <= %(end)s{where}
            UNION ALL
            SELECT day, category, verb, channel, campaign, actor_kind, actor_type, actor_id, actor_name, 1
              FROM (SELECT {DAY_SQL} AS day, category, verb, channel, {CAMPAIGN_SQL} AS campaign,
                           actor_kind, actor_type, actor_id, actor_name
                      FROM ledger_action
                     WHERE id > %(mark)s AND occurred_at >= %(start_at)s AND occurred_at < %(end_before)s
                   ) live
             WHERE true{where}
        ), grouped AS (
            SELECT {select_keys}
                   COALESCE(sum(count) FILTER (WHERE actor_kind = 'algorithmic'), 0) AS algorithmic,
                   COALESCE(sum(count) FILTER (WHERE actor_kind = 'manual'), 0) AS manual
              FROM parts {group_by}
        )
        SELECT (SELECT through_id FROM {RollupMark._meta.db_table} WHERE id = 1),
               (SELECT json_agg(grouped) FROM grouped)
    """
    for _ in range(MAX_ATTEMPTS):
        params["mark"] = _mark()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            seen_mark, rows = cursor.fetchone()
        if (seen_mark or 0) == params["mark"]:
            break
    else:  # pragma: no cover - rolls would have to finish faster than one report reads
        raise RuntimeError("the rollups kept moving while the report was read")
    result = []
    for row in rows or []:
        algorithmic, manual = int(row["algorithmic"]), int(row["manual"])
        if not expressions and algorithmic == manual == 0:
            continue
        key = tuple(_typed(by, i, row[f"k{i}"]) for i in range(len(expressions)))
        result.append(CountRow(key=key, algorithmic=algorithmic, manual=manual))
    return result


def _typed(by: Sequence[str], index: int, value):
    """JSON hands dates back as text."""
    group = [group for group in by for _ in GROUPS[group]][index]
    if group in ("day", "week", "month") and value is not None:
        return date.fromisoformat(value[:10])
    return value


def action_total(*, period: Period, filters: Mapping[str, str | Sequence[str]] | None = None) -> CountRow:
    rows = action_counts(period=period, filters=filters)
    return rows[0] if rows else CountRow(key=(), algorithmic=0, manual=0)
