"""Putting contacts into a campaign, many at once, in one statement.

Who may enter: contacts that match the entry filter, have no live enrollment in the
campaign (a unique partial index guarantees it, whatever races), and are allowed by the
re-entry policy. New enrollments are due at once; the tick picks them up even if the
task published after commit is lost.
"""

# ruff: noqa: S608 - the SQL is this module's and the compiler's, every value a parameter

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction

from campaigns.dispatch import enrollments_publish
from campaigns.models import Campaign
from campaigns.origins import campaign_actor
from ledger.context import acting_as
from ledger.models import Category
from ledger.services import ActionEntry, action_record_many
from segments.evaluation import matching_ids_sql, parsed


class NotEnrollable(ValueError):
    pass


def _reentry_sql(campaign: Campaign, now: datetime) -> tuple[str, list]:
    """Earlier enrollments that keep a contact out."""
    if campaign.reentry == Campaign.Reentry.ONCE:
        return "TRUE", []
    if campaign.reentry == Campaign.Reentry.AFTER_DAYS:
        return "(e.status IN ('active', 'waiting') OR e.entered_at > %s)", [
            now - timedelta(days=campaign.reentry_days or 0)
        ]
    return "e.status IN ('active', 'waiting')", []


def enroll(
    *,
    campaign: Campaign,
    contact_ids: Sequence[int],
    now: datetime,
    context: dict | None = None,
    contexts: Mapping[int, dict] | None = None,
    publish: bool = True,
) -> list[int]:
    """Enroll those of the contacts who may enter; returns the new enrollments' ids.
    `contexts` gives some contacts a context of their own (the touchpoint that brought them).
    A caller that takes their first steps itself says `publish=False`: a task of their own
    would only race it for the same rows (the tick still finds them if the caller fails)."""
    if campaign.status != Campaign.Status.ACTIVE or campaign.version_id is None:
        raise NotEnrollable(f"campaign “{campaign.name}” is not active with a published version")
    ids = sorted({int(contact_id) for contact_id in contact_ids})
    if not ids:
        return []
    version = campaign.version
    if version.entry_filter:
        candidates_sql, params = matching_ids_sql(parsed(version.entry_filter), now=now, contact_ids=True)
        params = [*params, ids]
    else:
        candidates_sql, params = "SELECT c.id FROM contacts_contact c WHERE c.id = ANY(%s)", [ids]
    kept_out, kept_params = _reentry_sql(campaign, now)
    first = version.steps[0]["key"] if version.steps else ""
    sql = f"""
        INSERT INTO campaigns_enrollment (campaign_id, version_id, contact_id, step_key, step_visit, status,
                                          next_run_at, context, error, entered_at)
        SELECT %s, %s, candidate.id, %s, 1, 'active', %s, COALESCE(own.context, %s::jsonb), '', %s
          FROM ({candidates_sql}) candidate
          LEFT JOIN unnest(%s::bigint[], %s::jsonb[]) AS own (contact_id, context)
                 ON own.contact_id = candidate.id
         WHERE NOT EXISTS (
               SELECT 1 FROM campaigns_enrollment e
                WHERE e.campaign_id = %s AND e.contact_id = candidate.id AND {kept_out})
        ON CONFLICT DO NOTHING
        RETURNING id, contact_id
    """
    contexts = contexts or {}
    values = [
        campaign.pk, version.pk, first, now, json.dumps(context or {}), now,
        *params, list(contexts), [json.dumps(value) for value in contexts.values()],
        campaign.pk, *kept_params,
    ]  # fmt: skip
    with transaction.atomic(), acting_as(campaign_actor(campaign)):
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        action_record_many(
            entries=[
                ActionEntry(
                    category=Category.CAMPAIGN_MANAGEMENT,
                    verb="campaign.enrolled",
                    contact_id=contact_id,
                    obj=campaign,
                    details={"enrollment": enrollment_id, "version": version.number},
                    occurred_at=now,
                )
                for enrollment_id, contact_id in rows
            ]
        )
        enrollment_ids = [row[0] for row in rows]
        if enrollment_ids and publish:
            transaction.on_commit(lambda: enrollments_publish(enrollment_ids))
    return enrollment_ids
