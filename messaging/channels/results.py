"""What one attempt at handing a message over came to."""

from __future__ import annotations

from dataclasses import dataclass

# Worth another try later: the other side was busy, slow or briefly broken.
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None = None
    duration_ms: int = 0
    error: str = ""
    provider_id: str = ""
    retryable: bool = False

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
