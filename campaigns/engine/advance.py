"""Moving enrollments along their journey, in batches, until a wait or the end.

A batch of due enrollments is locked at once (FOR UPDATE SKIP LOCKED: a second task handed
the same rows skips them while the first works, and afterwards finds them no longer due)
and moves in one transaction. All enrollments standing at the same step run it together,
as one set-based operation of its type (the type's `run_set`, campaigns.steps); a type
without one runs contact by contact (`run`), each in a savepoint of its own. Each step first
writes its StepRuns, whose unique key (enrollment, step, visit) is the last line of
defence: a step that already ran is followed, not run again. At the end every enrollment
of the batch is written back with one UPDATE, and its end recorded in the ledger.

A step that fails for a contact fails that enrollment only. A transient failure (the
network, a provider's time-out: `errors.TRANSIENT_ERRORS`) keeps the enrollment at its step
and tries again later, waiting twice as long each time, until MAX_ATTEMPTS.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from campaigns.engine import running
from campaigns.engine.errors import TRANSIENT_ERRORS
from campaigns.engine.journey import Journey
from campaigns.models import LIVE, Campaign, CampaignVersion, Enrollment, StepRun
from campaigns.origins import campaign_actor
from campaigns.steps.base import Outcome
from ledger.context import acting_as
from ledger.models import Category
from ledger.services import ActionEntry, action_record, action_record_many
from segments.evaluation import Known, matching_contacts

logger = logging.getLogger(__name__)

BATCH = 500  # enrollments locked and moved in one transaction
MAX_STEPS_AT_ONCE = 100  # a journey that loops without waiting is stopped, not run forever
MAX_ATTEMPTS = 5  # transient failures of one step before the enrollment fails
RETRY_FIRST = timedelta(seconds=30)  # then 1 min, 2 min, 4 min ...

# Errors that break the whole transaction: the batch is given up and tried again whole.
_CONNECTION_ERRORS = (OperationalError, InterfaceError)


def retry_delay(attempts: int) -> timedelta:
    """How long an enrollment waits after its n-th transient failure in a row."""
    return RETRY_FIRST * 2 ** max(attempts - 1, 0)


def enrollments_advance(*, enrollment_ids: Iterable[int], now: datetime | None = None) -> int:
    """Advance every due enrollment among the ids; returns how many steps ran."""
    now = now or timezone.now()
    known = Known.load()  # the kinds and segments conditions name, read once per call
    ids = sorted(set(enrollment_ids))
    return sum(_batch_advance(ids[start : start + BATCH], now, known) for start in range(0, len(ids), BATCH))


def enrollment_advance(*, enrollment_id: int, now: datetime | None = None, known: Known | None = None) -> int:
    return _batch_advance([enrollment_id], now or timezone.now(), known or Known.load())


def _batch_advance(ids: list[int], now: datetime, known: Known) -> int:
    with transaction.atomic():
        enrollments = list(
            Enrollment.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status__in=LIVE, next_run_at__lte=now)
            .order_by("pk")
        )
        # Each campaign and version (its steps, a JSON document) read once, not once per row.
        campaigns = Campaign.objects.in_bulk({e.campaign_id for e in enrollments})
        versions = CampaignVersion.objects.in_bulk({e.version_id for e in enrollments})
        for enrollment in enrollments:
            enrollment.campaign = campaigns[enrollment.campaign_id]
            enrollment.version = versions[enrollment.version_id]
        by_campaign: dict[int, list[Enrollment]] = defaultdict(list)
        for enrollment in enrollments:
            by_campaign[enrollment.campaign_id].append(enrollment)
        ran = 0
        for group in by_campaign.values():
            with acting_as(campaign_actor(group[0].campaign)):
                ran += _Batch(group, now, known).run()
        return ran


class _Batch:
    """The enrollments of one campaign locked together; all their state changes in memory
    until `_save` writes them back at once."""

    def __init__(self, enrollments: list[Enrollment], now: datetime, known: Known):
        self.enrollments = enrollments
        self.campaign = enrollments[0].campaign
        self.now = now
        self.known = known
        self.journeys = {e.version_id: Journey(steps=tuple(e.version.steps)) for e in enrollments}
        self.ran = 0
        self.ends: list[ActionEntry] = []
        self.visits = self._visits_so_far()
        self.context_changed: set[int] = set()

    def run(self) -> int:
        live = self._goals_reached(self.enrollments)
        live = self._waits_over(live)
        taken: dict[int, int] = defaultdict(int)
        while live:
            groups: dict[tuple[int, str], list[Enrollment]] = defaultdict(list)
            for enrollment in live:
                if enrollment.step_key:
                    groups[(enrollment.version_id, enrollment.step_key)].append(enrollment)
                else:
                    self._finish(enrollment, Enrollment.Status.COMPLETED)
            live = []
            for (version_id, key), group in groups.items():
                live.extend(self._step(self.journeys[version_id], key, group, taken))
        self._save()
        return self.ran

    def _step(self, journey: Journey, key: str, group: list[Enrollment], taken: dict) -> list[Enrollment]:
        """Run one step for the group; returns those that go on in this batch."""
        step = journey.step(key)
        if step is None:
            for enrollment in group:
                self._fail(enrollment, f"the step {key!r} is not in version {enrollment.version.number}")
            return []
        looping = [e for e in group if taken[e.pk] >= MAX_STEPS_AT_ONCE]
        for enrollment in looping:
            self._fail(enrollment, f"more than {MAX_STEPS_AT_ONCE} steps without a wait: is there a loop?")
        group = [e for e in group if taken[e.pk] < MAX_STEPS_AT_ONCE]
        group = self._not_held(step, group)
        outcomes = self._run_once(step, journey, group)
        going_on = []
        for enrollment in group:
            taken[enrollment.pk] += 1
            outcome = outcomes.get(enrollment.pk)
            if outcome is None:
                continue  # failed, or to be tried again later
            if outcome.exit:
                self._finish(enrollment, Enrollment.Status.EXITED, reason="exit step")
            elif outcome.wait_until is not None:
                enrollment.status = Enrollment.Status.WAITING
                enrollment.next_run_at = outcome.wait_until
                enrollment.attempts = 0
            else:
                self._move(enrollment, outcome.next)
                going_on.append(enrollment)
        return going_on

    def _not_held(self, step: dict, group: list[Enrollment]) -> list[Enrollment]:
        """Those the channel's frequency cap and quiet hours let send now; the others wait at
        the step, not yet run, until the moment they may (`context.held` says why)."""
        if running.sending_channel(step) is None:
            return group
        holds = running.holds(step, contact_ids=[e.contact_id for e in group], now=self.now)
        free = []
        for enrollment in group:
            hold = holds.get(enrollment.contact_id)
            if hold is None:
                free.append(enrollment)
                continue
            enrollment.status = Enrollment.Status.WAITING
            enrollment.next_run_at = hold.until
            held = {"step": step["key"], "until": hold.until.isoformat(), "reason": hold.reason}
            enrollment.context = {**enrollment.context, "held": held}
            self.context_changed.add(enrollment.pk)
        return free

    def _run_once(self, step: dict, journey: Journey, group: list[Enrollment]) -> dict[int, Outcome | None]:
        """Run the step for those whose visit of it has not run yet; the others follow the
        exit their earlier run recorded."""
        self.ran += len(group)
        fresh, earlier = self._claim_runs(step["key"], group)
        outcomes: dict[int, Outcome | None] = {}
        for enrollment in group:
            if enrollment.pk in earlier:
                detail = earlier[enrollment.pk]
                logger.warning(
                    "step %s of enrollment %s already ran; following it", step["key"], enrollment.pk
                )
                outcomes[enrollment.pk] = Outcome(next=detail.get("next", ""), exit=detail.get("exit", False))
        if not fresh:
            return outcomes
        done = None
        try:
            with transaction.atomic():
                done = running.steps_run(step, fresh, journey=journey, now=self.now, known=self.known)
        except _CONNECTION_ERRORS:
            raise
        except Exception:
            logger.warning(
                "step %s (%s) failed for a batch of %d; running it contact by contact",
                step["key"], step["type"], len(fresh), exc_info=True,
            )  # fmt: skip
        if done is None:
            done = self._one_by_one(step, journey, fresh)
        self._record_runs(step["key"], fresh, done)
        outcomes.update(done)
        return outcomes

    def _one_by_one(self, step: dict, journey: Journey, fresh: list[Enrollment]) -> dict[int, Outcome | None]:
        outcomes: dict[int, Outcome | None] = {}
        for enrollment in fresh:
            try:
                with transaction.atomic():
                    outcome = running.step_run(
                        step, enrollment=enrollment, journey=journey, now=self.now, known=self.known
                    )
            except _CONNECTION_ERRORS:
                raise
            except Exception as error:
                message = f"{step['key']} ({step['type']}): {error}"
                if isinstance(error, TRANSIENT_ERRORS) and enrollment.attempts + 1 < MAX_ATTEMPTS:
                    logger.warning(
                        "step %s of enrollment %s will be tried again: %s", step["key"], enrollment.pk, error
                    )
                    self._try_later(enrollment, step["key"], message)
                    outcomes[enrollment.pk] = None
                    continue
                logger.exception("step %s of enrollment %s failed", step["key"], enrollment.pk)
                if isinstance(error, TRANSIENT_ERRORS):
                    message = f"{message} (after {enrollment.attempts + 1} attempts)"
                enrollment.failed_run = message
                self._fail(enrollment, message)
                outcomes[enrollment.pk] = None
                continue
            outcomes[enrollment.pk] = outcome
        return outcomes

    # --- the state, in memory and in bulk

    def _visits_so_far(self) -> dict[tuple[int, str], int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT enrollment_id, step_key, count(*) FROM campaigns_steprun"
                " WHERE enrollment_id = ANY(%s) GROUP BY enrollment_id, step_key",
                [[e.pk for e in self.enrollments]],
            )
            return {(row[0], row[1]): row[2] for row in cursor.fetchall()}

    def _claim_runs(self, key: str, group: list[Enrollment]) -> tuple[list[Enrollment], dict[int, dict]]:
        """Insert the group's StepRuns; returns those inserted and the details of the runs
        that existed already."""
        group_rows = [(e.pk, e.step_visit) for e in group]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO campaigns_steprun (enrollment_id, campaign_id, step_key, visit, outcome, detail,
                                               started_at)
                SELECT v.enrollment_id, %s, %s, v.visit, 'done', '{}', %s
                  FROM jsonb_to_recordset(%s::jsonb) AS v (enrollment_id bigint, visit integer)
                ON CONFLICT (enrollment_id, step_key, visit) DO NOTHING
                RETURNING enrollment_id
                """,
                [self.campaign.pk, key, self.now, _records(("enrollment_id", "visit"), group_rows)],
            )
            inserted = {row[0] for row in cursor.fetchall()}
            earlier: dict[int, dict] = {}
            if len(inserted) < len(group):
                others = [e for e in group if e.pk not in inserted]
                cursor.execute(
                    "SELECT r.enrollment_id, r.detail FROM campaigns_steprun r"
                    " JOIN unnest(%s::bigint[], %s::integer[]) AS v (enrollment_id, visit)"
                    " ON r.enrollment_id = v.enrollment_id AND r.visit = v.visit WHERE r.step_key = %s",
                    [[e.pk for e in others], [e.step_visit for e in others], key],
                )
                earlier = {row[0]: _json(row[1]) for row in cursor.fetchall()}
        fresh = [e for e in group if e.pk in inserted]
        for enrollment in fresh:
            self.visits[(enrollment.pk, key)] = self.visits.get((enrollment.pk, key), 0) + 1
        return fresh, earlier

    def _record_runs(self, key: str, fresh: list[Enrollment], outcomes: dict[int, Outcome | None]) -> None:
        """Each run's outcome and exit, with one UPDATE."""
        rows = []
        for enrollment in fresh:
            outcome = outcomes.get(enrollment.pk)
            failed = getattr(enrollment, "failed_run", None)
            if outcome is not None:
                waiting = outcome.wait_until is not None
                detail = {**outcome.detail, "next": outcome.next, "exit": outcome.exit}
                state = StepRun.Outcome.WAITING if waiting else StepRun.Outcome.DONE
                rows.append((enrollment.pk, enrollment.step_visit, state, detail, not waiting))
            elif failed is not None:
                rows.append(
                    (
                        enrollment.pk,
                        enrollment.step_visit,
                        StepRun.Outcome.FAILED,
                        json.dumps({"error": failed}),
                        False,
                    )
                )
                del enrollment.failed_run
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE campaigns_steprun r
                   SET outcome = v.outcome, detail = v.detail,
                       finished_at = CASE WHEN v.finished THEN %s::timestamptz END
                  FROM jsonb_to_recordset(%s::jsonb)
                       AS v (enrollment_id bigint, visit integer, outcome varchar, detail jsonb,
                             finished boolean)
                 WHERE r.enrollment_id = v.enrollment_id AND r.visit = v.visit AND r.step_key = %s
                """,
                [self.now, _records(("enrollment_id", "visit", "outcome", "detail", "finished"), rows), key],
            )

    def _goals_reached(self, enrollments: list[Enrollment]) -> list[Enrollment]:
        reached: set[int] = set()
        by_version: dict[int, list[Enrollment]] = defaultdict(list)
        for enrollment in enrollments:
            if enrollment.version.goal:
                by_version[enrollment.version_id].append(enrollment)
        for group in by_version.values():
            contacts = matching_contacts(
                group[0].version.goal,
                contact_ids=[e.contact_id for e in group],
                now=self.now,
                known=self.known,
            )
            reached.update(e.pk for e in group if e.contact_id in contacts)
        for enrollment in enrollments:
            if enrollment.pk in reached:
                self._finish(enrollment, Enrollment.Status.EXITED, reason="goal reached")
        return [e for e in enrollments if e.pk not in reached]

    def _waits_over(self, enrollments: list[Enrollment]) -> list[Enrollment]:
        """A wait that is over: its run is done, the journey goes on where the step says (a
        wait for an event by `yes` if the event came, else `no`). A step that was held back
        before it ran (a frequency cap, quiet hours) has no run yet: it runs now."""
        waited = [e for e in enrollments if e.status == Enrollment.Status.WAITING]
        ended: set[int] = set()
        if waited:
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    UPDATE campaigns_steprun r SET outcome = %s, finished_at = %s
                      FROM unnest(%s::bigint[], %s::varchar[], %s::integer[])
                           AS v (enrollment_id, step_key, visit)
                     WHERE r.enrollment_id = v.enrollment_id AND r.step_key = v.step_key AND r.visit = v.visit
                    RETURNING r.enrollment_id
                    """,
                    [
                        StepRun.Outcome.DONE, self.now, [e.pk for e in waited],
                        [e.step_key for e in waited], [e.step_visit for e in waited],
                    ],
                )  # fmt: skip
                ended = {row[0] for row in cursor.fetchall()}
            for enrollment in waited:
                enrollment.status = Enrollment.Status.ACTIVE
                if enrollment.pk in ended:
                    journey = self.journeys[enrollment.version_id]
                    self._move(enrollment, running.resume(enrollment=enrollment, journey=journey))
        return enrollments

    def _move(self, enrollment: Enrollment, key: str) -> None:
        """To the next step; a step met again (a loop) is a new visit with a key of its own."""
        enrollment.step_key = key
        enrollment.step_visit = self.visits.get((enrollment.pk, key), 0) + 1 if key else 1
        enrollment.attempts = 0
        enrollment.error = ""

    def _try_later(self, enrollment: Enrollment, key: str, message: str) -> None:
        """Leave the enrollment at the step, without its run, due again after a backoff."""
        StepRun.objects.filter(enrollment=enrollment, step_key=key, visit=enrollment.step_visit).delete()
        self.visits[(enrollment.pk, key)] -= 1
        enrollment.attempts += 1
        enrollment.status = Enrollment.Status.ACTIVE
        enrollment.next_run_at = self.now + retry_delay(enrollment.attempts)
        enrollment.error = message

    def _fail(self, enrollment: Enrollment, error: str) -> None:
        enrollment.error = error
        self._finish(enrollment, Enrollment.Status.FAILED, reason=error)

    def _finish(self, enrollment: Enrollment, status: str, *, reason: str = "") -> None:
        enrollment.status = status
        enrollment.next_run_at = None
        enrollment.finished_at = self.now
        self.ends.append(
            ActionEntry(
                category=Category.CAMPAIGN_MANAGEMENT,
                verb=f"campaign.{status}",
                contact_id=enrollment.contact_id,
                obj=self.campaign,
                details={"enrollment": enrollment.pk, "step": enrollment.step_key, "reason": reason},
                occurred_at=self.now,
            )
        )

    def _save(self) -> None:
        """Every enrollment of the batch as it now stands, with one UPDATE; the ends in the ledger."""
        columns = (
            "id",
            "step_key",
            "step_visit",
            "status",
            "next_run_at",
            "finished_at",
            "error",
            "attempts",
            "context",
        )
        rows = [
            (
                e.pk,
                e.step_key,
                e.step_visit,
                e.status,
                _iso(e.next_run_at),
                _iso(e.finished_at),
                e.error,
                e.attempts,
                e.context if e.pk in self.context_changed else None,
            )
            for e in self.enrollments
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE campaigns_enrollment e
                   SET step_key = v.step_key, step_visit = v.step_visit, status = v.status,
                       next_run_at = v.next_run_at, finished_at = v.finished_at, error = v.error,
                       attempts = v.attempts, lease_until = NULL,
                       context = COALESCE(v.context, e.context)
                  FROM jsonb_to_recordset(%s::jsonb)
                       AS v (id bigint, step_key varchar, step_visit integer, status varchar,
                             next_run_at timestamptz, finished_at timestamptz, error text, attempts integer,
                             context jsonb)
                 WHERE e.id = v.id
                """,
                [_records(columns, rows)],
            )
        action_record_many(entries=self.ends)


def _records(columns: tuple[str, ...], rows) -> str:
    """Rows as a JSON array of objects, for jsonb_to_recordset: one parameter, however many
    rows, and far cheaper to pass than one array per column."""
    return json.dumps([dict(zip(columns, row, strict=True)) for row in rows])


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _json(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


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
