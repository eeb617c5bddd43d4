import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from contacts.models import ConsentChange, Suppression, Touchpoint
from contacts.selectors import suppression_get
from ledger.models import Action
from messaging.channels.sms import TwilioBackend, sms_backend
from messaging.models import DeliveryAttempt, OutboxMessage
from messaging.outbox import outbox_deliver, outbox_due_claim
from messaging.signing import twilio_signature
from tests.factories import ContactFactory
from tests.messaging.conftest import sms_message
from tests.messaging.httpserver import Reply

pytestmark = pytest.mark.django_db

TWILIO_OK = json.dumps({"sid": "SM0123456789abcdef", "status": "queued"}).encode()


@pytest.fixture
def twilio(settings, local_server):
    settings.SMS_BACKEND = "messaging.channels.sms.TwilioBackend"
    settings.SMS_API_URL = local_server.url
    settings.SMS_ACCOUNT_SID = "AC123"
    settings.SMS_AUTH_TOKEN = "auth-token"
    local_server.replies = [Reply(status=201, body=TWILIO_OK)]
    return local_server


@pytest.fixture
def subscriber(db):
    return ContactFactory(phone="+33612345678", consent_sms="subscribed")


def deliver(message, now=None):
    return outbox_deliver(message_id=message.pk, now=now or timezone.now())


def test_the_console_backend_writes_a_json_line_to_the_file(as_robot, subscriber, settings):
    message = sms_message(subscriber, body="Doors open at 9")

    assert deliver(message) == "sent"

    with open(settings.SMS_FILE_PATH, encoding="utf-8") as file:
        lines = [json.loads(line) for line in file]
    assert lines == [
        {"to": "+33612345678", "from": "+15005550006", "body": "Doors open at 9", "key": message.key}
    ]


def test_twilio_is_posted_a_form_with_basic_auth(as_robot, subscriber, twilio):
    # given
    message = sms_message(subscriber)

    # when
    status = deliver(message)

    # then the provider got Twilio's request, and the message is sent with the provider's id
    assert status == "sent"
    (request,) = twilio.requests
    assert request.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC123:auth-token").decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body.decode()) == {
        "To": ["+33612345678"], "From": ["+15005550006"], "Body": ["Your webinar starts in 1 hour"],
    }  # fmt: skip
    attempt = DeliveryAttempt.objects.get(message=message)
    assert (attempt.ok, attempt.status_code, attempt.provider_id) == (True, 201, "SM0123456789abcdef")
    action = Action.objects.get(verb="sms.sent")
    assert (action.category, action.channel, action.contact_id) == ("sms", "sms", subscriber.pk)


def test_the_twilio_backend_needs_its_settings(settings):
    settings.SMS_BACKEND = "messaging.channels.sms.TwilioBackend"
    settings.SMS_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured, match="SMS_ACCOUNT_SID"):
        sms_backend()


def test_a_provider_refusal_fails_at_once_and_an_outage_is_retried_later(as_robot, subscriber, twilio):
    # given a number the provider refuses, and an outage for another
    twilio.replies = [Reply(status=400, body=b'{"code": 21211, "message": "invalid To"}'), Reply(status=503)]
    refused, delayed = sms_message(subscriber), sms_message(subscriber, body="later")
    now = timezone.now()

    # when
    statuses = [deliver(refused, now), deliver(delayed, now)]

    # then
    assert statuses == ["failed", "pending"]
    delayed.refresh_from_db()
    assert delayed.next_attempt_at == now + timedelta(seconds=30)
    assert "invalid To" in OutboxMessage.objects.get(pk=refused.pk).error
    assert Action.objects.filter(verb="sms.failed").count() == 1


def test_a_network_error_is_a_retryable_attempt(as_robot, subscriber, settings):
    settings.SMS_BACKEND = "messaging.channels.sms.TwilioBackend"
    settings.SMS_API_URL = "http://127.0.0.1:9"  # discard port: nobody listens
    settings.SMS_ACCOUNT_SID, settings.SMS_AUTH_TOKEN = "AC1", "t"
    message = sms_message(subscriber)

    assert deliver(message) == "pending"

    attempt = DeliveryAttempt.objects.get(message=message)
    assert attempt.status_code is None and "ConnectError" in attempt.error


@pytest.mark.parametrize(
    ("consent", "phone", "error"),
    [
        ("", "+33612345678", "the contact never agreed to receive SMS"),
        ("unsubscribed", "+33612345678", "the contact unsubscribed from SMS"),
        ("subscribed", "", "the contact has no phone number"),
    ],
)
def test_sms_needs_consent_and_a_number(as_robot, twilio, consent, phone, error):
    contact = ContactFactory(phone=phone, consent_sms=consent)
    message = sms_message(contact)

    assert deliver(message) == "suppressed"

    message.refresh_from_db()
    assert message.error == error
    assert twilio.requests == []


# --- STOP replies ---------------------------------------------------------------------

INBOUND = "http://testserver/hooks/sms/inbound/"


def twilio_post(client, params, *, token="auth-token"):
    signature = twilio_signature(auth_token=token, url=INBOUND, params=params)
    return client.post(reverse("hooks:sms-inbound"), params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def inbound_token(settings):
    settings.SMS_AUTH_TOKEN = "auth-token"


def test_stop_unsubscribes_suppresses_and_stops_pending_messages(client, subscriber, inbound_token, as_robot):
    # given a message waiting for the number, and another contact with another number
    waiting = sms_message(subscriber)
    other = ContactFactory(phone="+33699999999", consent_sms="subscribed")
    untouched = sms_message(other)

    # when the person replies STOP
    response = twilio_post(client, {"From": "+33612345678", "To": "+15005550006", "Body": " stop "})

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    subscriber.refresh_from_db()
    assert subscriber.consent_sms == "unsubscribed"
    change = ConsentChange.objects.get(contact=subscriber)
    assert (change.source, change.actor_kind) == ("STOP reply by SMS", "algorithmic")
    suppression = suppression_get(channel="sms", address="+33612345678")
    assert suppression.reason == "stop"
    touchpoint = Touchpoint.objects.get(contact=subscriber)
    assert (touchpoint.kind_id, touchpoint.properties) == ("sms_reply", {"keyword": "STOP"})
    assert Action.objects.get(verb="consent.unsubscribed").actor_kind == "algorithmic"
    assert OutboxMessage.objects.get(pk=waiting.pk).status == "suppressed"
    assert OutboxMessage.objects.get(pk=untouched.pk).status == "pending"


def test_start_takes_the_number_back(client, subscriber, inbound_token):
    twilio_post(client, {"From": "+33612345678", "Body": "STOP"})

    twilio_post(client, {"From": "+33612345678", "Body": "Start"})

    subscriber.refresh_from_db()
    assert subscriber.consent_sms == "subscribed"
    assert not Suppression.objects.exists()


def test_another_reply_is_a_touchpoint_only(client, subscriber, inbound_token):
    twilio_post(client, {"From": "+33612345678", "Body": "Is parking available?"})

    subscriber.refresh_from_db()
    assert subscriber.consent_sms == "subscribed"
    assert Touchpoint.objects.get(contact=subscriber).text == "Is parking available?"
    assert not Suppression.objects.exists()


def test_an_unsigned_or_forged_reply_is_refused(client, subscriber, inbound_token):
    forged = twilio_post(client, {"From": "+33612345678", "Body": "STOP"}, token="guess")
    unsigned = client.post(reverse("hooks:sms-inbound"), {"From": "+33612345678", "Body": "STOP"})

    assert (forged.status_code, unsigned.status_code) == (403, 403)
    subscriber.refresh_from_db()
    assert subscriber.consent_sms == "subscribed"


def test_a_retry_waits_in_the_database_until_it_is_due(as_robot, subscriber, twilio):
    # given a first attempt that met an outage
    twilio.replies = [Reply(status=503), Reply(status=201, body=TWILIO_OK)]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        message = sms_message(subscriber)
        assert outbox_deliver(message_id=message.pk, now=start) == "pending"

    # when the tick looks before and after the backoff
    early = outbox_due_claim(now=start + timedelta(seconds=29))
    due = outbox_due_claim(now=start + timedelta(seconds=30))
    again = outbox_due_claim(now=start + timedelta(seconds=31))

    # then it is handed out once, when due, and the second attempt sends it
    assert (early, due, again) == ([], [message.pk], [])
    assert outbox_deliver(message_id=message.pk, now=start + timedelta(seconds=31)) == "sent"
    assert list(DeliveryAttempt.objects.filter(message=message).values_list("number", "status_code")) == [
        (1, 503), (2, 201),
    ]  # fmt: skip


def test_the_twilio_backend_class_builds_the_messages_url(settings):
    settings.SMS_API_URL = "https://api.example.test/"
    settings.SMS_ACCOUNT_SID, settings.SMS_AUTH_TOKEN = "AC9", "tok"
    assert TwilioBackend().url == "https://api.example.test/2010-04-01/Accounts/AC9/Messages.json"
