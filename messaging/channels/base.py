"""What every channel is to the outbox, and what one try at handing a message over came to.

A channel (e-mail, SMS, webhook) is an object with a `name` (the outbox's channel, and the
start of its ledger verbs: `email.sent`), the ledger `category` of what it sends, and
`send_batch(messages, now=, handover=)`: it hands
the messages to its provider one after the other, in the order given, and yields each with
its Attempt as soon as the provider has answered for it, before it starts the next. The
outbox marks each in its own commit between two yields: that order is what lets a crash
leave at most one message whose fate is unknown (see messaging.outbox). The outbox commits
while the channel goes on preparing the next message; the channel calls `handover()` right
before the step that makes the provider take a message (an SMTP body's final dot, an HTTP
request), which returns once every earlier answer is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from messaging.models import OutboxMessage

SENT, RETRY, FAILED, UNKNOWN = "sent", "retry", "failed", "unknown"

# Worth another try later: the other side was busy, slow or briefly broken.
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None = None
    duration_ms: int = 0
    error: str = ""
    provider_id: str = ""
    retryable: bool = False  # not taken, and another try later could help
    uncertain: bool = False  # the answer never came: the provider may have taken it
    summary: str = ""  # what the ledger shows of the message (an e-mail's subject)

    @property
    def status(self) -> str:
        if self.ok:
            return SENT
        if self.uncertain:
            return UNKNOWN
        return RETRY if self.retryable else FAILED

    @classmethod
    def from_status(cls, *, status_code: int, duration_ms: int, text: str = "", provider_id: str = ""):
        ok = 200 <= status_code < 300
        return cls(
            ok=ok,
            status_code=status_code,
            duration_ms=duration_ms,
            error="" if ok else f"HTTP {status_code}: {text[:500]}".strip(),
            provider_id=provider_id,
            retryable=not ok and (status_code in RETRYABLE_STATUS or status_code >= 500),
        )


class OutboxStopped(Exception):
    """Raised by `handover()`: an earlier answer could not be committed, so nothing more may
    be handed over. A channel lets it through."""


class Channel(Protocol):
    name: str
    category: str

    def send_batch(
        self, messages: Sequence[OutboxMessage], *, now: datetime, handover: Callable[[], None]
    ) -> Iterator[tuple[OutboxMessage, Attempt]]: ...
