"""`campaign_enroll`: N contacts enter a campaign at once (a segment or an import enrolling
them), through its entry filter, the re-entry rule and the ledger. Baseline: a hand-written
INSERT ... SELECT of the same enrollments, without the filter's compiler and the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection
from django.utils import timezone

from bench import benchmark, median_seconds, result, rolled_back
from bench.campaign_journey import FILTER, JOURNEY, contacts_in_countries, undone
from campaigns.enrollment import enroll
from campaigns.services import campaign_create, campaign_publish
from ledger.context import Actor, acting_as


@benchmark("campaign_enroll", default_scale=100_000, description="N contacts enter a campaign at once")
def campaign_enroll(scale: int) -> Iterator[dict]:
    with rolled_back(), acting_as(Actor.for_command("bench")):
        ids = contacts_in_countries(scale)
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

        seconds = median_seconds(lambda: undone(product), repeat=3)
        baseline_seconds = median_seconds(lambda: undone(baseline), repeat=3)
    yield result(
        bench="campaign_enroll", n=scale, seconds=seconds, per="enrollment", items=entered[-1],
        baseline="hand-written INSERT ... SELECT of the same enrollments, no ledger",
        baseline_seconds=baseline_seconds, enrolled=entered[-1],
    )  # fmt: skip
