"""Keeping the daily rollups of the ledger current.

The ledger only ever grows, so the rollups grow with it: each roll counts the actions
added since the last one (by id) and adds them to their day's rows. A rebuild counts a
range of days again from the ledger, and agrees with the rolls by construction.
"""

# ruff: noqa: S608 - the SQL is assembled from this module's constants; values go as parameters

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from reporting.models import DIMENSIONS, ActionRollup, RollupMark

# What an action counts under; the same expressions serve the live part of a report.
ROLLUP_DIMENSIONS = DIMENSIONS
CAMPAIGN_SQL = (
    "left(COALESCE(NULLIF(details->>'campaign', ''), "
    "CASE WHEN actor_type = 'campaign' THEN actor_name END, ''), 200)"
)
DAY_SQL = "(occurred_at AT TIME ZONE %(tz)s)::date"
LOCK_TIMEOUT = "1s"  # writers queue behind a waiting lock: never make them wait long


class LedgerBusyError(RuntimeError):
    """Writers held the ledger longer than a roll waits; the next roll picks up from here."""


@dataclass(frozen=True)
class RollResult:
    through_id: int
    actions: int


def _aggregate_sql(where: str) -> str:
    columns = ", ".join(ROLLUP_DIMENSIONS)
    return f"""
        INSERT INTO {ActionRollup._meta.db_table} AS r ({columns}, count)
        SELECT {DAY_SQL}, category, verb, channel, actor_kind, actor_type, actor_id, actor_name,
               {CAMPAIGN_SQL}, count(*)
          FROM ledger_action
         WHERE {where}
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
        ON CONFLICT ON CONSTRAINT action_rollup_dimensions_unique
        DO UPDATE SET count = r.count + EXCLUDED.count
    """


def _committed_through_id() -> int:
    """The highest ledger id below which no action can still appear.

    Ids are handed out when a row is inserted, but transactions commit in any order: a
    transaction still running may hold a lower id than one already visible. A SHARE lock
    waits for every open writer of the ledger to finish, so the largest id seen under it
    is final. The lock is held only for that one read; if writers hold the table longer
    than LOCK_TIMEOUT the roll gives up rather than stall the writers queued behind it.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute("LOCK TABLE ledger_action IN SHARE MODE")
            cursor.execute("SELECT COALESCE(max(id), 0) FROM ledger_action")
            return cursor.fetchone()[0]
    except OperationalError as error:
        raise LedgerBusyError(
            f"the ledger was being written for longer than {LOCK_TIMEOUT}; try again in a moment"
        ) from error


def _locked_mark() -> RollupMark:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RollupMark._meta.db_table} (id, through_id) VALUES (1, 0) "
            "ON CONFLICT (id) DO NOTHING"
        )
    return RollupMark.objects.select_for_update().get(pk=1)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def rollups_roll() -> RollResult:
    """Add the actions recorded since the last roll to the rollups."""
    through_id = _committed_through_id()
    with transaction.atomic():
        mark = _locked_mark()
        if through_id <= mark.through_id:
            return RollResult(through_id=mark.through_id, actions=0)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM ledger_action WHERE id > %s AND id <= %s", [mark.through_id, through_id]
            )
            actions = cursor.fetchone()[0]
            cursor.execute(
                _aggregate_sql("id > %(after)s AND id <= %(through)s"),
                {"tz": timezone.get_default_timezone_name(), "after": mark.through_id, "through": through_id},
            )
        mark.through_id = through_id
        mark.rolled_at = timezone.now()
        mark.save(update_fields=["through_id", "rolled_at"])
    return RollResult(through_id=through_id, actions=actions)


def rollups_rebuild(*, since: date | None = None) -> RollResult:
    """Count again from the ledger every day from `since` (every day when None), and add
    what arrived since the last roll for the days before it."""
    through_id = _committed_through_id()
    with transaction.atomic():
        mark = _locked_mark()
        # A roll may have passed this point meanwhile; the mark never moves back, or the days
        # before `since` would keep counts of actions that became "live" again.
        through_id = max(through_id, mark.through_id)
        params = {"tz": timezone.get_default_timezone_name(), "through": through_id, "after": mark.through_id}
        with connection.cursor() as cursor:
            if since is None:
                cursor.execute(f"DELETE FROM {ActionRollup._meta.db_table}")
                cursor.execute(_aggregate_sql("id <= %(through)s"), params)
            else:
                params["since"] = _start_of(since)
                cursor.execute(f"DELETE FROM {ActionRollup._meta.db_table} WHERE day >= %s", [since])
                cursor.execute(_aggregate_sql("id <= %(through)s AND occurred_at >= %(since)s"), params)
                cursor.execute(
                    _aggregate_sql("id > %(after)s AND id <= %(through)s AND occurred_at < %(since)s"), params
                )
            where = "id <= %(through)s" + ("" if since is None else " AND occurred_at >= %(since)s")
            cursor.execute(f"SELECT count(*) FROM ledger_action WHERE {where}", params)
            actions = cursor.fetchone()[0]
        mark.through_id = through_id
        mark.rolled_at = timezone.now()
        mark.save(update_fields=["through_id", "rolled_at"])
    return RollResult(through_id=through_id, actions=actions)
