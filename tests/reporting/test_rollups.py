from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.context import Actor, acting_as
from ledger.services import ActionEntry, action_record_many
from reporting.counts import action_counts
from reporting.models import ActionRollup, RollupMark
from reporting.periods import Period
from reporting.services import rollups_rebuild, rollups_roll
from tests.reporting.helpers import ledger_group_by, record

FIRST_DAY = date(2026, 3, 7)
# Few days and few values, so that rolls often add to rows an earlier roll wrote; the days
# span the switch to summer time in New York (8 March 2026).
DAYS = 3
SENT = {"category": "email", "verb": "email.sent", "channel": "email"}
VERBS = {"import": "contact.imported", "email": "email_template.updated"}  # units, channel or not
ACTORS = [
    Actor.for_integration(integration_id=1, name="Webinar tool"),
    Actor.for_campaign(campaign_id=7, name="Webinar follow-up"),
    Actor.for_task("contacts.enrich"),
    Actor(kind="manual", type="user", name="maya", id=3),
    Actor.for_command("import_contacts"),
]

actions = st.lists(
    st.tuples(
        st.sampled_from(ACTORS),
        st.sampled_from(["import", "email"]),
        st.sampled_from(["", "email"]),
        st.sampled_from([{}, {"campaign": "Spring webinar"}, {"file": "webinar-w12.csv"}]),
        # minutes from the first day's start in UTC, so local days are crossed both ways
        st.integers(min_value=0, max_value=DAYS * 24 * 60 - 1),
    ),
    min_size=1,
    max_size=40,
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), actions),
        st.tuples(st.just("roll"), st.none()),
        st.tuples(st.just("rebuild"), st.integers(min_value=-1, max_value=DAYS)),
    ),
    min_size=1,
    max_size=6,
)
periods = st.tuples(st.integers(0, DAYS), st.integers(0, DAYS))


def _insert(rows) -> None:
    by_actor: dict[Actor, list[ActionEntry]] = {}
    for actor, category, channel, details, minutes in rows:
        at = datetime(2026, 3, 7, tzinfo=UTC) + timedelta(minutes=minutes)
        by_actor.setdefault(actor, []).append(
            ActionEntry(
                category=category, verb=VERBS[category], channel=channel, details=details, occurred_at=at
            )
        )
    for actor, entries in by_actor.items():
        with acting_as(actor):
            action_record_many(entries=entries)


def _report(period: Period, by: list[str]) -> dict[tuple, tuple[int, int]]:
    return {row.key: (row.algorithmic, row.manual) for row in action_counts(period=period, by=by)}


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps, period=periods)
def test_the_report_from_rollups_agrees_with_a_group_by_over_the_ledger(db, settings, steps, period):
    settings.TIME_ZONE = "America/New_York"
    start, end = sorted(FIRST_DAY + timedelta(days=offset) for offset in period)
    with transaction.atomic():
        for step, argument in steps:
            # given actions inserted, rolled up and rebuilt in any order
            if step == "insert":
                _insert(argument)
            elif step == "roll":
                rollups_roll()
            else:
                rollups_rebuild(since=None if argument < 0 else FIRST_DAY + timedelta(days=argument))
            # then every breakdown of the report is the ledger's own GROUP BY
            for report_start, report_end in [
                (start, end),
                (FIRST_DAY - timedelta(days=1), FIRST_DAY + timedelta(days=DAYS)),
            ]:
                _assert_agrees(report_start, report_end)
        transaction.set_rollback(True)


def _assert_agrees(start: date, end: date) -> None:
    report_period = Period(start=start, end=end)
    assert _report(report_period, ["day", "category"]) == ledger_group_by(
        start=start, end=end, columns=["day", "category"]
    )
    assert _report(report_period, ["actor", "channel"]) == ledger_group_by(
        start=start, end=end, columns=["actor_type", "actor_id", "actor_name", "channel"]
    )
    expected_campaigns = ledger_group_by(
        start=start,
        end=end,
        columns=["COALESCE(details->>'campaign', CASE WHEN actor_type = 'campaign' THEN actor_name END, '')"],
    )
    assert _report(report_period, ["campaign"]) == expected_campaigns


def test_a_roll_adds_only_what_came_since_the_last_one(as_robot):
    # given actions rolled up, then one more
    record(as_robot, 3, **SENT, occurred_at=datetime(2026, 5, 4, 9, tzinfo=UTC))
    first = rollups_roll()
    record(as_robot, 1, **SENT, occurred_at=datetime(2026, 5, 4, 10, tzinfo=UTC))

    # when it rolls again
    second = rollups_roll()

    # then the new action is added to the day's row, and the mark moves past it
    assert (first.actions, second.actions) == (3, 1)
    assert ActionRollup.objects.get(day=date(2026, 5, 4)).count == 4
    assert RollupMark.objects.get().through_id == second.through_id > first.through_id
    assert rollups_roll().actions == 0


def test_actions_not_yet_rolled_up_count_live(as_robot):
    # given a rolled-up day and a late action for the same day that is not rolled up yet
    record(as_robot, 2, **SENT, occurred_at=datetime(2026, 5, 4, 9, tzinfo=UTC))
    rollups_roll()
    record(as_robot, 1, **SENT, occurred_at=datetime(2026, 5, 4, 23, tzinfo=UTC))

    # then the report counts both
    rows = action_counts(period=Period(date(2026, 5, 4), date(2026, 5, 4)))
    assert (rows[0].algorithmic, rows[0].manual) == (3, 0)


def test_rebuild_counts_days_again_from_the_ledger(as_robot):
    # given rollups that were damaged
    record(as_robot, 2, **SENT, occurred_at=datetime(2026, 5, 4, 9, tzinfo=UTC))
    record(as_robot, 5, **SENT, occurred_at=datetime(2026, 5, 6, 9, tzinfo=UTC))
    rollups_roll()
    ActionRollup.objects.update(count=1000)

    # when the days from 5 May are rebuilt
    call_command("rollup_actions", "--since", "2026-05-05")

    # then those agree with the ledger again, and earlier ones were left alone
    counts = dict(ActionRollup.objects.values_list("day", "count"))
    assert counts == {date(2026, 5, 4): 1000, date(2026, 5, 6): 5}
    call_command("rollup_actions", "--all")
    assert dict(ActionRollup.objects.values_list("day", "count")) == {
        date(2026, 5, 4): 2,
        date(2026, 5, 6): 5,
    }


def test_the_command_refuses_a_bad_date(db):
    with pytest.raises(CommandError, match="--since: '2026-13-01' is not a date"):
        call_command("rollup_actions", "--since", "2026-13-01")


def test_the_roll_task_runs_in_a_worker_context(as_robot, celery_eager):
    from reporting.tasks import rollups_rebuild_recent_task, rollups_roll_task

    record(as_robot, 2, **SENT)
    assert rollups_roll_task.delay().get() == 2
    assert rollups_rebuild_recent_task.delay(days=2).get() == 2


def test_beat_installs_the_rolls_in_its_database_schedule(transactional_db):
    # the scheduler closes the connection it starts on, as a long-running process does
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from mops.celery import app

    DatabaseScheduler(app=app)

    tasks = dict(PeriodicTask.objects.values_list("name", "task"))
    assert tasks["reporting-roll-ledger"] == "reporting.tasks.rollups_roll_task"
    assert tasks["reporting-rebuild-closed-days"] == "reporting.tasks.rollups_rebuild_recent_task"
    nightly = PeriodicTask.objects.get(name="reporting-rebuild-closed-days").crontab
    assert (nightly.hour, nightly.minute) == ("2", "15")


def test_a_rebuild_never_moves_the_mark_back(as_robot, monkeypatch):
    from reporting import services

    # given actions rolled up, and a rebuild that saw the ledger before that roll finished
    record(as_robot, 2, **SENT, occurred_at=datetime(2026, 5, 4, 9, tzinfo=UTC))
    rolled = rollups_roll()
    monkeypatch.setattr(services, "_committed_through_id", lambda: rolled.through_id - 1)

    # when it rebuilds the days from 5 May
    rollups_rebuild(since=date(2026, 5, 5))

    # then the earlier day is still counted once
    assert RollupMark.objects.get().through_id == rolled.through_id
    rows = action_counts(period=Period(date(2026, 5, 4), date(2026, 5, 4)))
    assert (rows[0].algorithmic, rows[0].manual) == (2, 0)
