"""A webhook through a real Celery worker: the first attempt fails, the outbox tick hands the
retry back once it is due, and the second attempt delivers."""

import time

import pytest

from messaging.models import DeliveryAttempt, OutboxMessage
from messaging.tasks import outbox_deliver_task, outbox_tick_task
from tests.factories import ContactFactory
from tests.messaging.conftest import webhook_message
from tests.messaging.httpserver import Reply


@pytest.fixture
def worker(transactional_db, tmp_path, monkeypatch):
    from tests.worker import WorkerProcess

    monkeypatch.setenv("WEBHOOK_SECRET", "whsec-worker")
    monkeypatch.setenv("OUTBOX_RETRY_BASE_SECONDS", "1")
    process = WorkerProcess(tmp_path / "worker.log").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.worker
def test_a_failed_webhook_is_retried_by_the_tick_and_delivered(worker, local_server, as_robot):
    # given an endpoint that fails once
    local_server.replies = [Reply(status=503), Reply(status=200)]
    message = webhook_message(ContactFactory(), url=f"{local_server.url}/hook", body={"event": "hot_lead"})

    # when a worker delivers it, and beat's tick runs until the retry is due
    outbox_deliver_task.delay(message_id=message.pk)
    worker.wait_for(
        lambda: DeliveryAttempt.objects.filter(message=message).exists(), what="the first attempt"
    )
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and not OutboxMessage.objects.filter(pk=message.pk, status="sent").exists()
    ):
        outbox_tick_task.delay()
        time.sleep(0.5)

    # then
    worker.wait_for(
        lambda: OutboxMessage.objects.filter(pk=message.pk, status="sent").exists(), what="the retry"
    )
    assert list(DeliveryAttempt.objects.filter(message=message).values_list("number", "status_code")) == [
        (1, 503), (2, 200),
    ]  # fmt: skip
    assert len(local_server.requests) == 2
    assert local_server.requests[1].headers["x-mops-signature"].startswith("t=")
