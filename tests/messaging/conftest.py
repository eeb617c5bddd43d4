import hashlib
import itertools

import pytest

from messaging.models import OutboxMessage
from tests.messaging.httpserver import LocalServer

_keys = itertools.count(1)


@pytest.fixture
def local_server():
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def channel_settings(settings, tmp_path):
    settings.WEBHOOK_SECRET = "whsec-test"
    settings.BOUNCE_WEBHOOK_SECRET = "bounce-secret"
    settings.SMS_FROM = "+15005550006"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    settings.SMS_BACKEND = "messaging.channels.sms.ConsoleBackend"
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_MAX_ATTEMPTS = 4
    settings.WEBHOOK_TIMEOUT_SECONDS = 2.0
    return settings


def sms_message(contact, *, body="Your webinar starts in 1 hour", to=None, campaign=None) -> OutboxMessage:
    """An SMS as a send_sms step writes it."""
    return _message(contact, "sms", {"to": to if to is not None else contact.phone, "body": body}, campaign)


def webhook_message(contact, *, url, body=None, campaign=None) -> OutboxMessage:
    """A webhook call as a webhook step writes it."""
    return _message(contact, "webhook", {"url": url, "body": body or {"contact": contact.pk}}, campaign)


def email_message(contact, *, to=None, campaign=None) -> OutboxMessage:
    payload = {"to": to or contact.email, "subject": "Hello", "body": "See you there"}
    return _message(contact, "email", payload, campaign)


def _message(contact, channel, payload, campaign) -> OutboxMessage:
    key = hashlib.sha256(f"test:{next(_keys)}:{contact.pk}".encode()).hexdigest()
    origin = {"origin_type": "campaign", "origin_id": campaign.pk} if campaign is not None else {}
    return OutboxMessage.objects.create(key=key, channel=channel, contact=contact, payload=payload, **origin)
