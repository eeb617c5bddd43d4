import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.services import suppression_add
from ledger.models import Action
from messaging.models import DeliveryAttempt, OutboxMessage
from messaging.outbox import backoff, outbox_deliver, outbox_due_claim
from messaging.signing import signature_header, signature_valid
from tests.factories import ContactFactory
from tests.messaging.conftest import webhook_message
from tests.messaging.httpserver import Reply

pytestmark = pytest.mark.django_db


def test_the_receiver_can_check_origin_and_freshness(as_robot, local_server):
    # given
    contact = ContactFactory()
    message = webhook_message(
        contact, url=f"{local_server.url}/crm/leads", body={"lead": contact.pk, "hot": True}
    )

    # when
    assert outbox_deliver(message_id=message.pk, now=timezone.now()) == "sent"

    # then the JSON arrived with a signature over "<t>.<body>" made with the shared secret
    (request,) = local_server.requests
    assert request.path == "/crm/leads"
    assert json.loads(request.body) == {"lead": contact.pk, "hot": True}
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-mops-message-key"] == message.key
    parts = dict(part.split("=", 1) for part in request.headers["x-mops-signature"].split(","))
    expected = hmac.new(b"whsec-test", f"{parts['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert parts["v1"] == expected
    assert abs(int(parts["t"]) - timezone.now().timestamp()) < 60
    action = Action.objects.get(verb="webhook.sent")
    assert (action.category, action.contact_id, action.details["status_code"]) == ("webhook", contact.pk, 200)


def test_a_signature_is_refused_when_forged_altered_or_stale():
    body = b'{"a":1}'
    header = signature_header(secret="s3cret", body=body, timestamp=1_700_000_000)

    assert signature_valid(secret="s3cret", body=body, header=header, now=1_700_000_100)
    assert not signature_valid(secret="other", body=body, header=header, now=1_700_000_100)
    assert not signature_valid(secret="s3cret", body=b'{"a":2}', header=header, now=1_700_000_100)
    assert not signature_valid(secret="s3cret", body=body, header=header, now=1_700_000_000 + 301)
    assert not signature_valid(secret="s3cret", body=body, header="t=abc,v1=00", now=1_700_000_000)


def test_backoff_doubles_up_to_its_cap(settings):
    settings.OUTBOX_RETRY_MAX_SECONDS = 200
    assert [backoff(attempts=n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 200, 200]


def test_failures_retry_with_backoff_until_the_endpoint_answers_and_each_try_is_logged(
    as_robot, local_server
):
    # given an endpoint down twice (500, then 502), then up
    local_server.replies = [Reply(status=500, body=b"boom"), Reply(status=502), Reply(status=204, body=b"")]
    message = webhook_message(ContactFactory(), url=local_server.url)
    now = timezone.now()

    # when the worker tries, and the tick hands it back each time it is due
    first = outbox_deliver(message_id=message.pk, now=now)
    message.refresh_from_db()
    second_due = message.next_attempt_at
    assert outbox_due_claim(now=second_due - timedelta(seconds=1)) == []
    assert outbox_due_claim(now=second_due) == [message.pk]
    second = outbox_deliver(message_id=message.pk, now=second_due)
    message.refresh_from_db()
    third_due = message.next_attempt_at
    assert outbox_due_claim(now=third_due) == [message.pk]
    third = outbox_deliver(message_id=message.pk, now=third_due)

    # then
    assert (first, second, third) == ("pending", "pending", "sent")
    assert (second_due - now, third_due - second_due) == (timedelta(seconds=30), timedelta(seconds=60))
    log = list(
        DeliveryAttempt.objects.filter(message=message).values_list("number", "status_code", "ok", "error")
    )
    assert log == [(1, 500, False, "HTTP 500: boom"), (2, 502, False, "HTTP 502: {}"), (3, 204, True, "")]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == ("sent", 3, None)
    assert len(local_server.requests) == 3
    assert len({r.headers["x-mops-message-key"] for r in local_server.requests}) == 1


def test_a_slow_endpoint_times_out_and_is_retried(as_robot, local_server, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    local_server.replies = [Reply(status=200, delay=1.5)]
    message = webhook_message(ContactFactory(), url=local_server.url)

    assert outbox_deliver(message_id=message.pk, now=timezone.now()) == "pending"

    attempt = DeliveryAttempt.objects.get(message=message)
    assert attempt.status_code is None
    assert "Timeout" in attempt.error
    assert attempt.duration_ms >= 250


def test_a_client_error_is_not_retried(as_robot, local_server):
    local_server.replies = [Reply(status=410, body=b"gone")]
    message = webhook_message(ContactFactory(), url=local_server.url)

    assert outbox_deliver(message_id=message.pk, now=timezone.now()) == "failed"

    message.refresh_from_db()
    assert (message.error, message.next_attempt_at) == ("HTTP 410: gone", None)
    assert Action.objects.get(verb="webhook.failed").details["status_code"] == 410


def test_it_gives_up_after_the_last_attempt(as_robot, local_server):
    local_server.replies = [Reply(status=503)]
    message = webhook_message(ContactFactory(), url=local_server.url)
    now = timezone.now()

    statuses = []
    for _ in range(4):  # OUTBOX_MAX_ATTEMPTS in the tests
        statuses.append(outbox_deliver(message_id=message.pk, now=now))
        now += timedelta(hours=1)

    assert statuses == ["pending", "pending", "pending", "failed"]
    assert DeliveryAttempt.objects.filter(message=message).count() == 4
    assert outbox_deliver(message_id=message.pk, now=now) == "skipped"


def test_the_tick_also_picks_up_a_first_attempt_whose_task_was_lost(as_robot, local_server):
    message = webhook_message(ContactFactory(), url=local_server.url)
    created = message.created_at

    assert outbox_due_claim(now=created + timedelta(seconds=30)) == []
    assert outbox_due_claim(now=created + timedelta(minutes=3)) == [message.pk]
    # leased: the next tick leaves it to the worker that has it
    assert outbox_due_claim(now=created + timedelta(minutes=4)) == []


def test_an_erased_persons_data_is_not_posted(as_robot, local_server):
    contact = ContactFactory()
    suppression_add(channel="email", address=contact.email, reason="erased")
    message = webhook_message(contact, url=local_server.url)

    assert outbox_deliver(message_id=message.pk, now=timezone.now()) == "suppressed"
    assert local_server.requests == []


def test_the_delivery_log_shows_in_the_admin(admin_client, as_robot, local_server):
    local_server.replies = [Reply(status=503, body=b"try later")]
    message = webhook_message(ContactFactory(), url=local_server.url)
    outbox_deliver(message_id=message.pk, now=timezone.now())

    page = admin_client.get(f"/admin/messaging/outboxmessage/{message.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Delivery log" in html or "delivery log" in html
    assert "HTTP 503: try later" in html
    assert OutboxMessage.objects.get(pk=message.pk).status == "pending"
