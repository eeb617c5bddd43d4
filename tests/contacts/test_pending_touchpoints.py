"""Touchpoints wait in PostgreSQL until the apps that react to them have: a lost task
message, a dead worker or a failing receiver loses none of them."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connections, transaction
from django.urls import reverse

from contacts import dispatch
from contacts.models import PendingTouchpoint, Touchpoint
from contacts.services import _REACTOR_LOCK, touchpoints_queue, touchpoints_react
from contacts.signals import touchpoints_captured
from contacts.tasks import touchpoints_captured_task
from tests.factories import TouchpointFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("as_robot")]

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@contextmanager
def listening(fail_on: set[int] = frozenset()):
    """Collect the announced touchpoint ids; a batch holding one of `fail_on` raises."""
    batches: list[list[int]] = []

    def receiver(sender, touchpoint_ids, **kwargs):
        if fail_on & set(touchpoint_ids):
            raise RuntimeError("the scoring service is down")
        batches.append(list(touchpoint_ids))

    touchpoints_captured.connect(receiver, dispatch_uid="test.pending")
    try:
        yield batches
    finally:
        touchpoints_captured.disconnect(dispatch_uid="test.pending")


def queued(count: int) -> list[int]:
    ids = [TouchpointFactory().pk for _ in range(count)]
    touchpoints_queue(touchpoint_ids=ids)
    return ids


def test_a_wake_up_after_commit_announces_what_the_transaction_queued(
    django_capture_on_commit_callbacks, celery_eager
):
    with listening() as batches, django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            ids = queued(3)
        assert PendingTouchpoint.objects.count() == 3  # before the wake-up runs

    assert batches == [sorted(ids)]
    assert not PendingTouchpoint.objects.exists()


def test_touchpoints_whose_wake_up_was_lost_are_announced_by_the_beat(clock):
    # given touchpoints queued, and their task message lost (no on-commit callback ran)
    ids = queued(4)

    # when the beat runs the task
    with listening() as batches:
        announced = touchpoints_captured_task.apply().get()

    # then they are announced, in one batch, and leave the queue
    assert (announced, batches) == (4, [sorted(ids)])
    assert not PendingTouchpoint.objects.exists()


def test_waiting_touchpoints_are_taken_in_batches(clock):
    ids = queued(5)

    with listening() as batches:
        touchpoints_react(batch=2)

    assert batches == [sorted(ids)[:2], sorted(ids)[2:4], sorted(ids)[4:]]


def test_a_task_that_spent_its_time_hands_the_rest_to_a_fresh_task(clock, monkeypatch):
    ids = queued(3)
    woken = []
    monkeypatch.setattr(dispatch, "touchpoints_react_soon", lambda: woken.append(True))
    ticks = iter([0.0, 1.0, 99.0])  # start, before the first batch, before the second
    monkeypatch.setattr("contacts.services.time", SimpleNamespace(monotonic=lambda: next(ticks)))

    with listening() as batches:
        assert touchpoints_react(batch=1, seconds=10) == 1

    assert (batches, woken) == ([[ids[0]]], [True])
    assert PendingTouchpoint.objects.count() == 2


@contextmanager
def another_worker_reacting():
    """Another worker's session holds the first reactor slot until the block ends."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, 0)", [_REACTOR_LOCK])
        yield
        with other.cursor() as cursor:  # at once: a closed session lets go a moment later
            cursor.execute("SELECT pg_advisory_unlock(%s, 0)", [_REACTOR_LOCK])
    finally:
        other.close()


def test_a_woken_task_leaves_at_once_while_another_worker_reacts(clock):
    # given another worker reacting to touchpoints (it holds the one reactor slot)
    queued(2)
    with another_worker_reacting():
        # when a task is woken, it leaves the touchpoints to that worker's next batch
        with listening() as batches:
            assert touchpoints_react() == 0
        assert (batches, PendingTouchpoint.objects.count()) == ([], 2)

    # and once the slot is free, a task takes them
    with listening() as batches:
        assert touchpoints_react() == 2


def test_more_reactors_may_be_allowed(clock, settings):
    settings.TOUCHPOINTS_REACTORS = 2
    queued(1)
    with another_worker_reacting(), listening() as batches:
        assert touchpoints_react() == 1
    assert len(batches) == 1


def test_a_batch_another_worker_holds_is_left_alone_until_its_lease_runs_out(clock, settings):
    settings.TOUCHPOINTS_LEASE_SECONDS = 300
    ids = queued(2)
    PendingTouchpoint.objects.update(claimed_until=NOW + timedelta(seconds=300))

    with listening() as batches:
        assert touchpoints_react() == 0
        clock.shift(timedelta(seconds=301))  # that worker died
        assert touchpoints_react() == 2

    assert batches == [sorted(ids)]


def test_a_failing_batch_waits_then_is_retried_one_by_one_so_only_the_bad_touchpoint_stays(clock):
    # given three queued touchpoints, one of which makes a receiver fail
    good_one, bad, good_two = queued(3)

    # when a worker reacts: the batch fails as a whole and waits, with the error kept
    with listening(fail_on={bad}) as batches:
        assert touchpoints_react() == 0
        assert batches == []
        pending = PendingTouchpoint.objects.get(touchpoint_id=bad)
        assert (pending.attempts, pending.error) == (1, "RuntimeError: the scoring service is down")
        assert touchpoints_react() == 0  # still waiting

        # then, after the wait, each is retried alone: the good ones go through
        clock.shift(timedelta(seconds=31))
        assert touchpoints_react() == 2

    assert sorted(batches) == [[good_one], [good_two]]
    bad_row = PendingTouchpoint.objects.get()
    assert (bad_row.touchpoint_id, bad_row.attempts) == (bad, 2)


def test_a_touchpoint_that_keeps_failing_stays_queued_with_its_error_and_is_no_longer_tried(clock):
    (bad,) = queued(1)
    with listening(fail_on={bad}):
        for _ in range(8):
            touchpoints_react()
            clock.shift(timedelta(hours=2))

    pending = PendingTouchpoint.objects.get()
    assert pending.attempts == 5
    assert "scoring service is down" in pending.error


def test_a_touchpoint_deleted_while_it_waited_is_dropped(clock):
    gone, kept = queued(2)
    Touchpoint.objects.filter(pk=gone).delete()

    with listening() as batches:
        assert touchpoints_react() == 1

    assert batches == [[kept]]
    assert not PendingTouchpoint.objects.exists()


def test_a_marketer_sees_failed_touchpoints_in_the_admin_and_tries_them_again(
    client, marketer, clock, django_capture_on_commit_callbacks, celery_eager
):
    (bad,) = queued(1)
    with listening(fail_on={bad}):
        touchpoints_react()
    client.force_login(marketer)

    page = client.get(reverse("admin:contacts_pendingtouchpoint_changelist"))
    assert "RuntimeError: the scoring service is down" in page.content.decode()

    with listening() as batches, django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:contacts_pendingtouchpoint_changelist"),
            {"action": "try_again", "_selected_action": [bad]},
        )
    assert response.status_code == 302
    assert batches == [[bad]]  # at once, without waiting out the backoff
    assert not PendingTouchpoint.objects.exists()


def test_a_viewer_cannot_try_touchpoints_again(client, viewer, clock):
    queued(1)
    client.force_login(viewer)

    page = client.get(reverse("admin:contacts_pendingtouchpoint_changelist"))

    assert page.status_code == 200
    assert "try_again" not in page.content.decode()
