"""What the reports are checked against: straight GROUP BY queries over the raw ledger."""

from django.db import connection
from django.utils import timezone

from ledger.context import Actor, acting_as
from ledger.services import action_record


def ledger_group_by(*, start, end, columns: list[str]) -> dict[tuple, tuple[int, int]]:
    """{(columns...): (algorithmic, manual)} for the days start..end, from ledger_action alone."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {", ".join(columns)},
                   count(*) FILTER (WHERE actor_kind = 'algorithmic'),
                   count(*) FILTER (WHERE actor_kind = 'manual')
              FROM (SELECT *, (occurred_at AT TIME ZONE %(tz)s)::date AS day FROM ledger_action) a
             WHERE day BETWEEN %(start)s AND %(end)s
             GROUP BY {", ".join(columns)}
            """,
            {"tz": timezone.get_default_timezone_name(), "start": start, "end": end},
        )
        width = len(columns)
        return {tuple(row[:width]): (row[width], row[width + 1]) for row in cursor.fetchall()}


def record(actor: Actor, count: int = 1, **fields) -> None:
    with acting_as(actor):
        for _ in range(count):
            action_record(**fields)
