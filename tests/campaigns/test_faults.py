"""Journeys survive what happens to real processes: a worker killed in the middle of a batch,
the broker gone for a while, the database dropping the worker's connection. Afterwards every
enrollment has finished, every message exists and was written once, and no step ran twice.

A worker is caught in the middle of its batch by a share lock this test holds on one contact:
the batch tags its contacts and writes their e-mails, then waits to change that contact's
score. The test sees the worker's connection wait in pg_stat_activity, then strikes. The
test plays Celery beat: it calls the tick while it polls.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from campaigns.engine.tick import tick
from campaigns.models import LIVE, Enrollment, StepRun
from campaigns.services import campaign_enroll
from common.db import database_url
from contacts.models import Contact
from messaging.models import OutboxMessage
from messaging.outbox import outbox_tick
from tests.campaigns.conftest import published
from tests.factories import ContactFactory
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.timeout(240)]

CONTACTS = 40
MESSAGE_KEY = re.compile(r"^X-Message-Key:\s+([0-9a-f]{64})", re.MULTILINE)  # the value may be folded
STEPS = [
    {"key": "tag", "type": "add_tag", "tags": ["faults"]},
    {"key": "hello", "type": "send_email", "subject": "Hello {{ contact.first_name }}", "body": "Hi."},
    {"key": "score", "type": "adjust_score", "by": 3},
    {"key": "done", "type": "exit"},
]


@pytest.fixture
def mail_dir(tmp_path, monkeypatch):
    folder = tmp_path / "mail"
    folder.mkdir()
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{folder}")
    return folder


@pytest.fixture
def short_leases(settings):
    """The tick (in this process) hands out batches for 2 s and publishes a message that
    is still pending after 2 s again."""
    settings.CAMPAIGNS_LEASE_SECONDS = 2
    settings.OUTBOX_REDELIVER_SECONDS = 2


@pytest.fixture
def workers(mail_dir, transactional_db, tmp_path):
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        process = WorkerProcess(tmp_path / f"worker-{len(started)}.log").start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def journey(as_marketer):
    campaign = published(name="Faults", steps=STEPS)
    contacts = ContactFactory.create_batch(CONTACTS)
    return campaign, contacts


class RowLock:
    """A share lock on one contact row, held from a connection of its own: rows may refer
    to the contact (enroll it, tag it), not change it."""

    def __init__(self, contact_id: int):
        self.connection = psycopg.connect(database_url())
        self.connection.execute("SELECT id FROM contacts_contact WHERE id = %s FOR SHARE", [contact_id])
        self.pid = self.connection.info.backend_pid

    def waiting(self) -> list[int]:
        """The backends that wait for this lock."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [self.pid]
            )
            return [row[0] for row in cursor.fetchall()]

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()


def _settled(worker: WorkerProcess) -> bool:
    """Beat's part, then: is every enrollment finished and every message sent?"""
    tick(now=timezone.now())
    outbox_tick(now=timezone.now())
    return (
        not Enrollment.objects.filter(status__in=LIVE).exists()
        and not OutboxMessage.objects.exclude(status="sent").exists()
    )


def _assert_each_once(campaign, contacts, mail_dir: Path) -> None:
    enrollments = Enrollment.objects.filter(campaign=campaign)
    assert Counter(enrollments.values_list("status", flat=True)) == {"exited": CONTACTS}
    runs = Counter(StepRun.objects.filter(campaign=campaign).values_list("step_key", "outcome"))
    assert runs == {(step["key"], "done"): CONTACTS for step in STEPS}
    assert OutboxMessage.objects.filter(origin_id=campaign.pk, status="sent").count() == CONTACTS
    keys = Counter(key for path in mail_dir.iterdir() for key in MESSAGE_KEY.findall(path.read_text()))
    assert set(keys) == set(OutboxMessage.objects.values_list("key", flat=True))
    assert set(keys.values()) == {1}, "an e-mail was written twice"
    scores = Counter(Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list("score", flat=True))
    assert scores == {3: CONTACTS}


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_it_to_another_once_its_lease_ends(
    workers, journey, mail_dir, short_leases
):
    from mops.celery import app

    # given enrollments that the tick has handed out (leased), and a worker that took the
    # batch and waits inside it for a contact this test locks
    campaign, contacts = journey
    lock = RowLock(contacts[-1].pk)
    try:
        campaign_enroll(campaign=campaign, contact_ids=[c.pk for c in contacts])
        assert tick(now=timezone.now()).claimed == CONTACTS
        first = workers()
        first.wait_for(lambda: bool(lock.waiting()), what="the worker in the middle of its batch")

        # when the worker is killed there, and the batch's other message is lost with it
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=30)
        app.control.purge()
    finally:
        lock.release()
    assert not StepRun.objects.exists(), "the killed batch was rolled back whole"
    assert Enrollment.objects.filter(status="active", lease_until__isnull=False).count() == CONTACTS

    # then once the lease has ended a tick hands the batch out again, and a new worker
    # finishes it with every step and every e-mail once
    second = workers()
    second.wait_for(lambda: _settled(second), timeout=120, what="every enrollment and e-mail")
    _assert_each_once(campaign, contacts, mail_dir)


def test_the_database_dropping_the_workers_connection_in_the_middle_of_a_batch_loses_nothing(
    workers, journey, mail_dir, short_leases
):
    # given a worker in the middle of its batch
    campaign, contacts = journey
    worker = workers()
    lock = RowLock(contacts[-1].pk)
    try:
        campaign_enroll(campaign=campaign, contact_ids=[c.pk for c in contacts])
        worker.wait_for(lambda: bool(lock.waiting()), what="the worker in the middle of its batch")

        # when the database ends the worker's connection (a restart, a fail-over)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", [lock.waiting()])
    finally:
        lock.release()

    # then the worker goes on with a new connection, and everything happens once
    worker.wait_for(lambda: _settled(worker), timeout=120, what="every enrollment and e-mail")
    assert worker.process.poll() is None
    _assert_each_once(campaign, contacts, mail_dir)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, which it may stop and start (nothing persisted:
    a stop loses every queued message)."""

    def __init__(self, folder: Path):
        self.port = _free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_broker(tmp_path):
    """Celery here and in the workers talks to a private Redis; the tests after this one
    publish to the broker they had before (the machine's, or the filesystem default)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    from mops.celery import app

    redis = PrivateRedis(tmp_path)
    redis.start()
    # Celery's broker_url prefers the CELERY_BROKER_URL variable to its own setting, so both
    # are read before they change and put back together (the workers read the variable).
    previous_variable = os.environ.get("CELERY_BROKER_URL")
    previous_url = app.conf.broker_url
    os.environ["CELERY_BROKER_URL"] = redis.url
    _point_at(app, redis.url)
    try:
        yield redis
    finally:
        if previous_variable is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_variable
        _point_at(app, previous_url)
        redis.stop()


def _point_at(app, url: str) -> None:
    """Publish to another broker from here on (the pools are per broker URL)."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def test_a_broker_that_goes_away_for_a_while_loses_no_enrollment_and_no_message(
    private_broker, workers, journey, mail_dir, short_leases
):
    # given a worker in the middle of its batch
    campaign, contacts = journey
    worker = workers()
    lock = RowLock(contacts[-1].pk)
    try:
        campaign_enroll(campaign=campaign, contact_ids=[c.pk for c in contacts])
        worker.wait_for(lambda: bool(lock.waiting()), what="the worker in the middle of its batch")

        # when the broker stops, with every message it held, while the batch goes on
        private_broker.stop()
    finally:
        lock.release()
    _wait(lambda: "Connection to broker lost" in worker.output() or worker.process.poll() is not None)
    private_broker.start()
    # A worker whose broker vanished under a running task may exit (kombu cannot restore
    # its unacknowledged messages without a connection); its supervisor starts it again.
    _wait(lambda: worker.output().count("Connected to redis") > 1 or worker.process.poll() is not None)
    if worker.process.poll() is not None:
        worker = workers()

    # then the ticks hand out again what the broker lost, and everything happens once
    worker.wait_for(lambda: _settled(worker), timeout=180, what="every enrollment and e-mail")
    _assert_each_once(campaign, contacts, mail_dir)


def _wait(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker neither reconnected nor exited"
        time.sleep(0.1)
