"""Moving enrollments along their journey, step by step, until a wait or the end.

Each enrollment moves in a transaction of its own, holding its row lock: a second task
handed the same enrollment skips it while the first works, and afterwards finds it no
longer due. Each step first writes its StepRun, whose unique key (enrollment, step, visit)
is the last line of defence: a step that already ran is followed, not run again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from campaigns.engine import steps as step_runners
from campaigns.engine.graph import Journey
from campaigns.engine.steps import holds
from campaigns.models import LIVE, Campaign, Enrollment, StepRun
from ledger.context import Actor, acting_as
from ledger.models import Category
from ledger.services import action_record
from segments.evaluation import Known

logger = logging.getLogger(__name__)

MAX_STEPS_AT_ONCE = 100  # a journey that loops without waiting is stopped, not run forever


def campaign_actor(campaign: Campaign) -> Actor:
    return Actor.for_campaign(campaign_id=campaign.pk, name=f"campaign “{campaign.name}”"[:200])


def enrollments_advance(*, enrollment_ids: Iterable[int], now: datetime | None = None) -> int:
    """Advance every due enrollment among the ids; returns how many steps ran."""
    ran = 0
    known = Known.load()  # the kinds and segments conditions name, read once per batch
    for enrollment_id in sorted(set(enrollment_ids)):
        ran += enrollment_advance(enrollment_id=enrollment_id, now=now, known=known)
    return ran


def enrollment_advance(*, enrollment_id: int, now: datetime | None = None, known: Known | None = None) -> int:
    now = now or timezone.now()
    known = known or Known.load()
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("campaign", "version")
            .filter(pk=enrollment_id, status__in=LIVE, next_run_at__lte=now)
            .first()
        )
        if enrollment is None:
            return 0  # another worker holds it, or it is not due: nothing to do twice
        with acting_as(campaign_actor(enrollment.campaign)):
            return _advance(enrollment, now, known)


def _advance(enrollment: Enrollment, now: datetime, known: Known) -> int:
    journey = Journey(steps=tuple(enrollment.version.steps))
    goal = enrollment.version.goal
    if goal and holds(goal, contact_id=enrollment.contact_id, now=now, known=known):
        enrollment_finish(enrollment, status=Enrollment.Status.EXITED, now=now, reason="goal reached")
        return 0
    if enrollment.status == Enrollment.Status.WAITING:
        # The wait is over: its run is done, the journey goes on. A step held back before it
        # ran (a frequency cap, quiet hours) has no run yet: it runs now.
        ended = StepRun.objects.filter(
            enrollment=enrollment, step_key=enrollment.step_key, visit=enrollment.step_visit
        ).update(outcome=StepRun.Outcome.DONE, finished_at=now)
        if ended:
            _move(enrollment, step_runners.resume(enrollment=enrollment, journey=journey))
    ran = 0
    while enrollment.step_key:
        if ran >= MAX_STEPS_AT_ONCE:
            _fail(enrollment, now, f"more than {MAX_STEPS_AT_ONCE} steps without a wait: is there a loop?")
            return ran
        step = journey.step(enrollment.step_key)
        if step is None:
            missing = f"the step {enrollment.step_key!r} is not in version {enrollment.version.number}"
            _fail(enrollment, now, missing)
            return ran
        hold = step_runners.held(step, contact_id=enrollment.contact_id, now=now)
        if hold is not None:
            _hold(enrollment, step, hold)
            return ran
        outcome = _run_once(enrollment, step, journey, now, known)
        ran += 1
        if outcome is None:
            return ran
        if outcome.exit:
            enrollment_finish(enrollment, status=Enrollment.Status.EXITED, now=now, reason="exit step")
            return ran
        if outcome.wait_until is not None:
            enrollment.status = Enrollment.Status.WAITING
            enrollment.next_run_at = outcome.wait_until
            enrollment.lease_until = None
            enrollment.save(update_fields=["status", "next_run_at", "lease_until", "step_key", "step_visit"])
            return ran
        _move(enrollment, outcome.next)
    enrollment_finish(enrollment, status=Enrollment.Status.COMPLETED, now=now)
    return ran


def _run_once(enrollment: Enrollment, step: dict, journey: Journey, now: datetime, known: Known):
    """Run the step unless this visit of it already ran; then its recorded exit is followed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_steprun (enrollment_id, campaign_id, step_key, visit, outcome, detail,"
            " started_at) VALUES (%s, %s, %s, %s, 'done', '{}', %s)"
            " ON CONFLICT (enrollment_id, step_key, visit) DO NOTHING RETURNING id",
            [enrollment.pk, enrollment.campaign_id, step["key"], enrollment.step_visit, now],
        )
        row = cursor.fetchone()
    if row is None:
        earlier = StepRun.objects.get(
            enrollment=enrollment, step_key=step["key"], visit=enrollment.step_visit
        )
        logger.warning("step %s of enrollment %s already ran; following it", step["key"], enrollment.pk)
        detail = earlier.detail
        return step_runners.Outcome(next=detail.get("next", ""), exit=detail.get("exit", False))
    run_id = row[0]
    try:
        with transaction.atomic():
            outcome = step_runners.run(step, enrollment=enrollment, journey=journey, now=now, known=known)
    except Exception as error:
        logger.exception("step %s of enrollment %s failed", step["key"], enrollment.pk)
        message = f"{step['key']} ({step['type']}): {error}"
        StepRun.objects.filter(pk=run_id).update(outcome=StepRun.Outcome.FAILED, detail={"error": message})
        _fail(enrollment, now, message)
        return None
    waiting = outcome.wait_until is not None
    StepRun.objects.filter(pk=run_id).update(
        outcome=StepRun.Outcome.WAITING if waiting else StepRun.Outcome.DONE,
        detail={**outcome.detail, "next": outcome.next, "exit": outcome.exit},
        finished_at=None if waiting else now,
    )
    return outcome


def _hold(enrollment: Enrollment, step: dict, hold: step_runners.Hold) -> None:
    """The step waits, not yet run, until the channel's limits let it send."""
    enrollment.status = Enrollment.Status.WAITING
    enrollment.next_run_at = hold.until
    enrollment.lease_until = None
    held = {"step": step["key"], "until": hold.until.isoformat(), "reason": hold.reason}
    enrollment.context = {**enrollment.context, "held": held}
    enrollment.save(
        update_fields=["status", "next_run_at", "lease_until", "step_key", "step_visit", "context"]
    )


def _move(enrollment: Enrollment, key: str) -> None:
    """To the next step; a step met again (a loop) is a new visit with a key of its own."""
    enrollment.step_key = key
    earlier = StepRun.objects.filter(enrollment=enrollment, step_key=key).count() if key else 0
    enrollment.step_visit = earlier + 1


def _fail(enrollment: Enrollment, now: datetime, error: str) -> None:
    enrollment.error = error
    enrollment_finish(enrollment, status=Enrollment.Status.FAILED, now=now, reason=error)


def enrollment_finish(enrollment: Enrollment, *, status: str, now: datetime, reason: str = "") -> None:
    """End the enrollment, in the caller's transaction and actor."""
    enrollment.status = status
    enrollment.next_run_at = None
    enrollment.lease_until = None
    enrollment.finished_at = now
    enrollment.save(
        update_fields=[
            "status",
            "next_run_at",
            "lease_until",
            "finished_at",
            "error",
            "step_key",
            "step_visit",
        ]
    )
    action_record(
        category=Category.CAMPAIGN_MANAGEMENT,
        verb=f"campaign.{status}",
        contact_id=enrollment.contact_id,
        obj=enrollment.campaign,
        details={"enrollment": enrollment.pk, "step": enrollment.step_key, "reason": reason},
        occurred_at=now,
    )
