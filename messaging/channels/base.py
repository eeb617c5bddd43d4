"""What every channel answers for each message of a batch it was handed."""

from __future__ import annotations

from dataclasses import dataclass

SENT, RETRY, FAILED = "sent", "retry", "failed"


@dataclass(frozen=True)
class Outcome:
    status: str  # SENT; RETRY (back to pending, tried again later); FAILED (for good)
    error: str = ""
    subject: str = ""  # what the ledger shows of the message
