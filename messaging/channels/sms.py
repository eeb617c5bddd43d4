"""SMS providers behind one interface, chosen by `SMS_BACKEND`:

- `messaging.channels.sms.ConsoleBackend` (the default) writes each message to standard
  output, or appends it as one JSON line to `SMS_FILE_PATH` when that is set;
- `messaging.channels.sms.TwilioBackend` posts it to a Twilio-style REST API
  (`POST {SMS_API_URL}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic auth
  with `SMS_ACCOUNT_SID` and `SMS_AUTH_TOKEN`, from `SMS_FROM`).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from contacts.models import Contact
from messaging.channels.base import Attempt
from messaging.models import OutboxMessage


class SmsBackend:
    """Send one text. Never raises for a provider's refusal or a network error: the
    attempt says what happened and whether trying again could help."""

    def send(self, *, to: str, body: str, key: str) -> Attempt:
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    _lock = threading.Lock()

    def send(self, *, to: str, body: str, key: str) -> Attempt:
        line = json.dumps({"to": to, "from": settings.SMS_FROM, "body": body, "key": key}, ensure_ascii=False)
        path = settings.SMS_FILE_PATH
        with self._lock:
            if path:
                with open(path, "a", encoding="utf-8") as file:
                    file.write(line + "\n")
            else:
                sys.stdout.write(f"SMS {line}\n")
                sys.stdout.flush()
        return Attempt(ok=True, provider_id=f"console-{uuid.uuid4().hex[:12]}")


class TwilioBackend(SmsBackend):
    API_VERSION = "2010-04-01"

    def __init__(self) -> None:
        self.sid = settings.SMS_ACCOUNT_SID
        self.token = settings.SMS_AUTH_TOKEN
        if not (self.sid and self.token and settings.SMS_FROM):
            raise ImproperlyConfigured(
                "the Twilio SMS backend needs SMS_ACCOUNT_SID, SMS_AUTH_TOKEN and SMS_FROM"
            )
        self.url = f"{settings.SMS_API_URL.rstrip('/')}/{self.API_VERSION}/Accounts/{self.sid}/Messages.json"

    def send(self, *, to: str, body: str, key: str) -> Attempt:
        started = time.monotonic()
        try:
            response = httpx.post(
                self.url,
                data={"To": to, "From": settings.SMS_FROM, "Body": body},
                auth=(self.sid, self.token),
                # Twilio ignores a repeated request carrying the same key within a day.
                headers={"I-Twilio-Idempotency-Token": key},
                timeout=settings.SMS_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as error:
            return Attempt(
                ok=False,
                duration_ms=_since(started),
                error=f"{type(error).__name__}: {error}"[:1000],
                retryable=True,
            )
        provider_id = ""
        if response.is_success:
            try:
                provider_id = str(response.json().get("sid", ""))
            except ValueError:
                provider_id = ""
        return Attempt.from_status(
            status_code=response.status_code,
            duration_ms=_since(started),
            text=response.text,
            provider_id=provider_id,
        )


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def sms_backend() -> SmsBackend:
    try:
        backend_class = import_string(settings.SMS_BACKEND)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {error}"
        ) from error
    return backend_class()


class SmsChannel:
    """Texts, one provider request each, through the back-end `SMS_BACKEND` names."""

    name = "sms"
    category = "sms"

    def send_batch(
        self, messages: Sequence[OutboxMessage], *, now: datetime, handover: Callable[[], None]
    ) -> Iterator[tuple[OutboxMessage, Attempt]]:
        backend = sms_backend()
        phones = dict(
            Contact.objects.filter(pk__in={m.contact_id for m in messages}).values_list("pk", "phone")
        )
        for message in messages:
            payload = message.payload if isinstance(message.payload, dict) else {}
            if not payload.get("body"):
                yield message, Attempt(ok=False, error="the message's payload has no 'body'")
                continue
            to = payload.get("to") or phones.get(message.contact_id, "")
            handover()
            yield message, backend.send(to=to, body=payload["body"], key=message.key)


CHANNEL = SmsChannel()
