"""`campaign_advance`: enrollments move through a journey of a branch, an exit and nothing
else, in the worker's batches, each under its row lock with a StepRun per step. Baseline:
the same number of rows locked and updated one transaction at a time, with no step run.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection, transaction
from django.utils import timezone

from bench import benchmark, median_seconds, result, rolled_back
from bench.campaign_journey import JOURNEY, contacts_in_countries, undone
from campaigns.engine.advance import enrollments_advance
from campaigns.enrollment import enroll
from campaigns.services import campaign_create, campaign_publish
from ledger.context import Actor, acting_as


@benchmark("campaign_advance", default_scale=5_000, description="enrollments run a two-step journey")
def campaign_advance(scale: int) -> Iterator[dict]:
    with rolled_back(), acting_as(Actor.for_command("bench")):
        ids = contacts_in_countries(scale)
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

        seconds = median_seconds(lambda: undone(product), repeat=1, warmup=0)
        baseline_seconds = median_seconds(lambda: undone(baseline), repeat=1, warmup=0)
    yield result(
        bench="campaign_advance", n=scale, seconds=seconds, per="step", items=ran[-1],
        baseline="each row locked and updated in its own transaction, no step logic",
        baseline_seconds=baseline_seconds, steps=ran[-1],
    )  # fmt: skip
