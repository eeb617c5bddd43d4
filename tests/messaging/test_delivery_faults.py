"""No e-mail lost, none sent twice unseen, when workers die at the weakest moment: while the
SMTP server is taking an e-mail, and just after it answered, before the answer is committed.

A real SMTP server that is slow to answer (so a worker spends its time waiting for it)
kills the worker with SIGKILL itself, at chosen receipts: once while it holds an e-mail
without having answered, once right after answering. A new worker takes over each time;
this test plays Celery beat (the campaigns' and the outbox's ticks) until everything has
settled. Then the server's receipts are compared with the outbox and the ledger.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from campaigns.engine.tick import tick
from campaigns.models import LIVE, Enrollment
from campaigns.services import campaign_enroll
from ledger.models import Action
from messaging.models import OutboxMessage
from messaging.outbox import outbox_tick, outbox_unknown_mark_sent, outbox_unknown_send_again
from tests.campaigns.conftest import published
from tests.factories import ContactFactory
from tests.worker import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.timeout(300)]

CONTACTS = 120
MESSAGE_KEY = re.compile(rb"^X-Message-Key:\s+([0-9a-f]{64})", re.MULTILINE)
# The worker is killed while the server holds these e-mails: before answering the first,
# right after answering the second and the third.
KILL_BEFORE_ANSWER = {20}
KILL_AFTER_ANSWER = {55, 90}


class SlowServer:
    """Answers each e-mail after a pause, keeps the message key of every one it received,
    and kills the worker at the chosen receipts."""

    def __init__(self, pause: float = 0.02):
        self.pause = pause
        self.receipts: list[str] = []
        self.victim: int | None = None
        self.kills = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.pause)
        self.receipts.append(MESSAGE_KEY.search(envelope.original_content).group(1).decode())
        number = len(self.receipts)
        if number in KILL_BEFORE_ANSWER:
            self._kill()
            await asyncio.sleep(0.5)  # the answer goes to nobody
        elif number in KILL_AFTER_ANSWER:
            asyncio.get_running_loop().call_later(0.001, self._kill)
        return "250 OK"

    def _kill(self) -> None:
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.kills += 1
            self.victim = None


@pytest.fixture
def server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = SlowServer()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def short_leases(settings, monkeypatch, server):
    """Claims and leases of a couple of seconds, in the workers and in this process (beat)."""
    for name in ("OUTBOX_LEASE_SECONDS", "OUTBOX_REDELIVER_SECONDS", "CAMPAIGNS_LEASE_SECONDS"):
        setattr(settings, name, 2)
        monkeypatch.setenv(name, "2")
    monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{server.port}")


def _settled() -> bool:
    now = timezone.now()
    tick(now=now)
    outbox_tick(now=now)
    return (
        not Enrollment.objects.filter(status__in=LIVE).exists()
        and not OutboxMessage.objects.exclude(status__in=["sent", "unknown"]).exists()
    )


def _run_until_settled(server: SlowServer, tmp_path, workers: list[WorkerProcess]) -> None:
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline:
        if not workers or workers[-1].process.poll() is not None:
            workers.append(WorkerProcess(tmp_path / f"worker-{len(workers)}.log").start())
            server.victim = workers[-1].process.pid
        if _settled():
            return
        time.sleep(0.5)
    raise AssertionError(f"not settled: {Counter(OutboxMessage.objects.values_list('status', flat=True))}")


def test_workers_killed_while_the_server_takes_an_e_mail_lose_none_and_send_none_twice(
    transactional_db, server, short_leases, tmp_path, as_marketer
):
    # given a one-e-mail journey that every contact enters
    campaign = published(
        name="Confirmation",
        steps=[{"key": "confirm", "type": "send_email", "subject": "You are in", "body": "Hi"}],
    )
    contacts = ContactFactory.create_batch(CONTACTS)
    campaign_enroll(campaign=campaign, contact_ids=[contact.pk for contact in contacts])
    workers: list[WorkerProcess] = []

    try:
        # when workers are killed at the weakest moments, and others take over
        _run_until_settled(server, tmp_path, workers)
    finally:
        for worker in workers:
            worker.stop()

    # then every contact has its message, sent or waiting for a person's decision
    messages = {m.key: m for m in OutboxMessage.objects.filter(origin_type="campaign", origin_id=campaign.pk)}
    assert server.kills == len(KILL_BEFORE_ANSWER | KILL_AFTER_ANSWER)
    assert len(messages) == CONTACTS
    assert len({m.contact_id for m in messages.values()}) == CONTACTS
    unknown = {key for key, m in messages.items() if m.status == "unknown"}
    sent = {key for key, m in messages.items() if m.status == "sent"}
    assert len(unknown) <= server.kills, "more than one message per killed worker is unknown"
    assert unknown | sent == set(messages)
    # no contact got two, every sent one arrived, and what else arrived is an unknown one
    received = Counter(server.receipts)
    assert set(received.values()) == {1}, "an e-mail was sent twice"
    assert sent <= set(received)
    assert set(received) - sent <= unknown
    # the ledger counts a send for each e-mail the server took, but the unknown ones
    logged = Action.objects.filter(verb="email.sent", details__message__in=[m.pk for m in messages.values()])
    assert logged.count() == len(received) - len(unknown & set(received))
    assert Counter(logged.values_list("details__message", flat=True)).most_common(1)[0][1] == 1

    # when a person decides: those the server has are marked sent, the others sent again
    arrived = [messages[key].pk for key in unknown & set(received)]
    missing = [messages[key].pk for key in unknown - set(received)]
    outbox_unknown_mark_sent(message_ids=arrived, now=timezone.now())
    outbox_unknown_send_again(message_ids=missing, now=timezone.now())
    workers.clear()
    server.victim = None
    try:
        _run_until_settled(server, tmp_path, workers)
    finally:
        for worker in workers:
            worker.stop()

    # then every contact got its e-mail exactly once, and the decisions are the person's
    assert Counter(server.receipts) == dict.fromkeys(messages, 1)
    assert set(
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages.values()]).values_list(
            "status", flat=True
        )
    ) == {"sent"}
    decided = Action.objects.filter(verb__in=["message.marked_sent", "message.sent_again"])
    assert decided.count() == len(unknown) and set(decided.values_list("actor_kind", flat=True)) <= {"manual"}
