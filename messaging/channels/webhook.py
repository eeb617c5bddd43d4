"""Posting JSON to a URL, signed: `X-Mops-Signature: t=<unix time>,v1=<HMAC-SHA256 hex>` of
"<t>.<body>" with `WEBHOOK_SECRET`, so the receiver can check both origin and freshness.
Each request has a timeout (`WEBHOOK_TIMEOUT_SECONDS`) and carries the message key in
`X-Mops-Message-Key`, by which a receiver recognises a retry of one it already has."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import httpx
from django.conf import settings

from messaging.channels.base import Attempt
from messaging.models import OutboxMessage
from messaging.signing import SIGNATURE_HEADER, signature_header


def webhook_body(body) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def webhook_post(*, url: str, body, key: str, secret: str | None = None) -> Attempt:
    raw = webhook_body(body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mops-webhooks/1",
        SIGNATURE_HEADER: signature_header(secret=secret or settings.WEBHOOK_SECRET, body=raw),
        "X-Mops-Message-Key": key,
    }
    started = time.monotonic()
    try:
        response = httpx.post(url, content=raw, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        return Attempt(
            ok=False,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=f"{type(error).__name__}: {error or 'no answer'}"[:1000],
            retryable=True,
        )
    return Attempt.from_status(
        status_code=response.status_code,
        duration_ms=int((time.monotonic() - started) * 1000),
        text=response.text,
    )


class WebhookChannel:
    """Signed JSON posts, one request each, to the URL each message names."""

    name = "webhook"
    category = "webhook"

    def send_batch(
        self, messages: Sequence[OutboxMessage], *, now: datetime, handover: Callable[[], None]
    ) -> Iterator[tuple[OutboxMessage, Attempt]]:
        for message in messages:
            payload = message.payload if isinstance(message.payload, dict) else {}
            if not payload.get("url"):
                yield message, Attempt(ok=False, error="the message's payload has no 'url'")
                continue
            handover()
            yield message, webhook_post(url=payload["url"], body=payload.get("body", {}), key=message.key)


CHANNEL = WebhookChannel()
