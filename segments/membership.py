"""Materialised membership: the set-based diff between who matches and who is in.

One statement per segment finds who matches, removes who no longer does, adds who now
does, and records each change twice: as a membership event (what campaigns trigger on,
and the history of exits) and as a ledger action of the segment, which is algorithmic.
The same statement serves a full rebuild and the re-evaluation of a few contacts; only
the shape of the touchpoint counts differs (see the compiler).

A full rebuild takes the segment's advisory lock exclusively, a re-evaluation shares
it: re-evaluations run side by side, and a rebuild never interleaves with them.
"""

# ruff: noqa: S608 - assembled from this module's constants and the compiler's SQL

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F

from ledger.context import Actor, acting_as, current_actor
from ledger.models import Category
from ledger.services import ACTIONS_INSERT
from segments.evaluation import Known, matching_ids_sql, parsed
from segments.models import Segment, SegmentSize

LOCK_SPACE = 7_341  # the first key of the segments' advisory locks


@dataclass(frozen=True)
class Diff:
    entered: int
    exited: int
    size: int | None = None  # after a full rebuild


def segment_actor(segment: Segment) -> Actor:
    """Membership is kept by the engine: algorithmic, whoever saved the segment."""
    return Actor.for_rule(rule_id=segment.pk, name=f"segment “{segment.name}”"[:200])


@contextmanager
def _locked(segment: Segment, *, exclusive: bool):
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [LOCK_SPACE, segment.pk])
    yield


def apply_diff(
    segment: Segment, *, now: datetime, contact_ids: Sequence[int] | None = None, known: Known | None = None
) -> Diff:
    """Bring the membership in line with the conditions, for every contact or for the
    given ones. Runs in the caller's transaction."""
    if segment.kind != Segment.Kind.DYNAMIC:
        return Diff(0, 0)
    known = known or Known.load()
    node = parsed(segment.conditions, known=known)
    wanted_sql, params = matching_ids_sql(node, now=now, contact_ids=contact_ids is not None, known=known)
    if contact_ids is not None:
        params = [*params, list(contact_ids)]
    scope = "" if contact_ids is None else "AND m.contact_id = ANY(%s)"
    scope_params = [] if contact_ids is None else [list(contact_ids)]
    with acting_as(segment_actor(segment)), _locked(segment, exclusive=contact_ids is None):
        actor = current_actor()
        sql = f"""
            WITH wanted AS MATERIALIZED ({wanted_sql}),
            gone AS (
                DELETE FROM segments_membership m
                 WHERE m.segment_id = %s {scope}
                   AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.id = m.contact_id)
                RETURNING m.contact_id
            ), came AS (
                INSERT INTO segments_membership (segment_id, contact_id, entered_at)
                SELECT %s, w.id, %s FROM wanted w
                 WHERE NOT EXISTS (
                     SELECT 1 FROM segments_membership m WHERE m.segment_id = %s AND m.contact_id = w.id
                 )
                ON CONFLICT (segment_id, contact_id) DO NOTHING
                RETURNING contact_id
            ), changes AS (
                SELECT contact_id, 'exited' AS kind FROM gone
                UNION ALL SELECT contact_id, 'entered' FROM came
            ), events AS (
                INSERT INTO segments_membershipevent (segment_id, contact_id, kind, occurred_at)
                SELECT %s, contact_id, kind, %s FROM changes
            ), actions AS (
                {ACTIONS_INSERT}
                SELECT %s, %s, %s, %s, %s, %s, 'segment.' || kind, contact_id, 'segments.segment', %s, '',
                       jsonb_build_object('segment', %s)
                  FROM changes
            )
            SELECT count(*) FILTER (WHERE kind = 'entered'), count(*) FILTER (WHERE kind = 'exited'),
                   (SELECT count(*) FROM wanted)
              FROM changes
        """
        segment_id = segment.pk
        values: list[Any] = [
            *params,
            segment_id, *scope_params,
            segment_id, now, segment_id,
            segment_id, now,
            now, actor.kind, actor.type, actor.id, actor.name[:200], Category.SEGMENTATION, str(segment_id),
            segment.slug,
        ]  # fmt: skip
        with connection.cursor() as cursor:
            if contact_ids is None:
                # A whole segment: room to hash the sets the diff compares.
                cursor.execute("SELECT set_config('work_mem', '256MB', true)")
            cursor.execute(sql, values)
            entered, exited, matching = cursor.fetchone()
    if contact_ids is None:
        Segment.objects.filter(pk=segment_id).update(size=matching, rebuilt_at=now)
        SegmentSize.objects.create(segment_id=segment_id, measured_at=now, size=matching)
        return Diff(entered, exited, matching)
    if entered or exited:
        Segment.objects.filter(pk=segment_id).update(size=F("size") + entered - exited)
    return Diff(entered, exited)
