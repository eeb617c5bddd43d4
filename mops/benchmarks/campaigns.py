"""Campaigns at scale.

`campaign_enroll`: N contacts enter a campaign at once (a segment or an import enrolling
them), through its entry filter, the re-entry rule and the ledger. Baseline: a hand-written
INSERT ... SELECT of the same enrollments, without the filter's compiler and the ledger.

`campaign_advance`: enrollments move through a journey of a branch, an exit and nothing
else, in the worker's batches, each under its row lock with a StepRun per step. Baseline:
the same number of rows locked and updated one transaction at a time, with no step run.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection, transaction
from django.utils import timezone

from campaigns.engine.advance import enrollments_advance
from campaigns.engine.enroll import enroll
from campaigns.services import campaign_create, campaign_publish
from ledger.context import Actor, acting_as
from mops.benchmarks import benchmark, median_seconds, result, rolled_back

FILTER = {"field": "country", "op": "in", "value": ["FR", "BE", "DE"]}
JOURNEY = [
    {"key": "french", "type": "branch", "conditions": {"field": "country", "op": "eq", "value": "FR"},
     "yes": "done", "no": "done"},
    {"key": "done", "type": "exit"},
]  # fmt: skip


def _contacts(n: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contact (email, first_name, last_name, phone, job_title, city, country,
                timezone, lifecycle_stage, source, score, owner_id, account_id, consent_email, consent_sms,
                attributes, created_at, updated_at)
            SELECT 'journey' || i || '@bench.example.net', 'First', 'Last', '', '', '',
                   (ARRAY['FR', 'BE', 'DE', 'GB', 'US'])[1 + i %% 5], '', 'lead', '', 0, NULL, NULL, '', '',
                   '{}', now(), now()
              FROM generate_series(1, %s) i
            RETURNING id
            """,
            [n],
        )
        return [row[0] for row in cursor.fetchall()]


def _undone(function) -> None:
    with transaction.atomic():
        function()
        transaction.set_rollback(True)


@benchmark("campaign_enroll", default_scale=100_000, description="N contacts enter a campaign at once")
def campaign_enroll(scale: int) -> Iterator[dict]:
    with rolled_back(), acting_as(Actor.for_command("bench")):
        ids = _contacts(scale)
        campaign = campaign_create(name="Bench journey", steps=JOURNEY, entry_filter=FILTER)
        version = campaign_publish(campaign=campaign)
        now = timezone.now()
        entered = []

        def product():
            entered.append(len(enroll(campaign=campaign, contact_ids=ids, now=now)))

        def baseline():
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    INSERT INTO campaigns_enrollment (campaign_id, version_id, contact_id, step_key,
                                                      step_visit, status, next_run_at, context, error,
                                                      entered_at)
                    SELECT %s, %s, c.id, 'french', 1, 'active', %s, '{}', '', %s
                      FROM unnest(%s::bigint[]) wanted (id)
                      JOIN contacts_contact c ON c.id = wanted.id
                     WHERE c.country IN ('FR', 'BE', 'DE')
                    ON CONFLICT DO NOTHING
                    """,
                    [campaign.pk, version.pk, now, now, ids],
                )

        seconds = median_seconds(lambda: _undone(product), repeat=3)
        baseline_seconds = median_seconds(lambda: _undone(baseline), repeat=3)
    yield result(
        bench="campaign_enroll", n=scale, seconds=seconds, per="enrollment", items=entered[-1],
        baseline="hand-written INSERT ... SELECT of the same enrollments, no ledger",
        baseline_seconds=baseline_seconds, enrolled=entered[-1],
    )  # fmt: skip


@benchmark("campaign_advance", default_scale=5_000, description="enrollments run a two-step journey")
def campaign_advance(scale: int) -> Iterator[dict]:
    with rolled_back(), acting_as(Actor.for_command("bench")):
        ids = _contacts(scale)
        campaign = campaign_create(name="Bench journey", steps=JOURNEY)
        campaign_publish(campaign=campaign)
        now = timezone.now()
        enrollment_ids = enroll(campaign=campaign, contact_ids=ids, now=now)
        ran = []

        def product():
            total = 0
            for start in range(0, len(enrollment_ids), 100):
                total += enrollments_advance(enrollment_ids=enrollment_ids[start : start + 100], now=now)
            ran.append(total)

        def baseline():
            for enrollment_id in enrollment_ids:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT id FROM campaigns_enrollment WHERE id = %s FOR UPDATE SKIP LOCKED",
                        [enrollment_id],
                    )
                    cursor.execute(
                        "UPDATE campaigns_enrollment SET status = 'exited', next_run_at = NULL WHERE id = %s",
                        [enrollment_id],
                    )

        seconds = median_seconds(lambda: _undone(product), repeat=1, warmup=0)
        baseline_seconds = median_seconds(lambda: _undone(baseline), repeat=1, warmup=0)
    yield result(
        bench="campaign_advance", n=scale, seconds=seconds, per="step", items=ran[-1],
        baseline="each row locked and updated in its own transaction, no step logic",
        baseline_seconds=baseline_seconds, steps=ran[-1],
    )  # fmt: skip
