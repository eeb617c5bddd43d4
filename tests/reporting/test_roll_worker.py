from datetime import UTC, datetime

import pytest

from ledger.context import Actor
from reporting.models import ActionRollup, RollupMark
from reporting.tasks import rollups_roll_task
from tests.reporting.helpers import record


@pytest.mark.worker
def test_a_real_worker_rolls_the_ledger_up(celery_worker_process):
    # given actions that no roll has counted yet
    record(Actor.for_task("tests.robot"), 3, category="email", verb="email.sent", channel="email",
           occurred_at=datetime(2026, 4, 2, 9, tzinfo=UTC))  # fmt: skip

    # when beat's roll task reaches the worker
    rollups_roll_task.delay()

    # then the separate worker process counted them into the day's rollup
    rolled = RollupMark.objects.filter(through_id__gt=0)
    celery_worker_process.wait_for(rolled.exists, what="the roll")
    assert list(ActionRollup.objects.values_list("day", "category", "count")) == [
        (datetime(2026, 4, 2).date(), "email", 3)
    ]
