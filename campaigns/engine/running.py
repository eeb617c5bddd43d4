"""Running a step for one contact or a batch, whatever its type: the registry's type does
the work (campaigns.steps); its effects go through the apps' services, so each is an action
in the ledger of the campaign's (algorithmic) actor.

In a dry run (the simulation) each step decides exactly as it would, with the same code,
and says what it would do instead of doing it.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.engine.journey import Journey
from campaigns.models import Enrollment
from campaigns.steps import step_type
from campaigns.steps.base import Outcome, Run
from messaging.limits import Hold, holds_for
from segments.evaluation import Known


def _type(step: dict):
    kind = step_type(step["type"])
    if kind is None:
        raise LookupError(f"no step type {step['type']!r}: its module is not installed")
    return kind


def step_run(
    step: dict,
    *,
    enrollment: Enrollment,
    journey: Journey,
    now: datetime,
    known: Known,
    dry_run: bool = False,
) -> Outcome:
    return _type(step).run(
        step, Run(enrollment=enrollment, journey=journey, now=now, known=known, dry=dry_run)
    )


def steps_run(
    step: dict, enrollments: list[Enrollment], *, journey: Journey, now: datetime, known: Known
) -> dict[int, Outcome] | None:
    """The step for a batch in a few statements, or None when its type runs contact by contact."""
    run = Run(enrollment=enrollments[0], journey=journey, now=now, known=known)
    return _type(step).run_set(step, enrollments, run)


def resume(*, enrollment: Enrollment, journey: Journey) -> str:
    """Where a contact goes when its wait at the current step is over."""
    step = journey.step(enrollment.step_key)
    if step is None:
        return journey.following(enrollment.step_key)
    return _type(step).resume(step, enrollment, journey)


def sending_channel(step: dict) -> str | None:
    return _type(step).channel


def holds(step: dict, *, contact_ids: list[int], now: datetime, also=()) -> dict[int, Hold]:
    """The contacts whose send at this step the channel's limits hold back (see messaging.limits)."""
    channel = sending_channel(step)
    return holds_for(channel, contact_ids=contact_ids, now=now, also=also) if channel else {}
