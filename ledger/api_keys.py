"""Creating, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from ledger.context import current_actor_or_none
from ledger.models import ApiKey, Integration

KEY_PREFIX = "mops_"
# Writing last_used_at on every request would turn every read into a write; once a
# minute is enough to tell a live key from a forgotten one.
LAST_USED_RESOLUTION_SECONDS = 60


def hash_key(raw_key: str) -> str:
    # The key has 256 bits of randomness, so a fast hash is as good as a slow one here.
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, integration_name: str, scopes: Iterable[str] = (ApiKey.READ, ApiKey.WRITE)
) -> tuple[ApiKey, str]:
    """Returns the stored key and the raw key, which exists only in this return value."""
    scopes = sorted(set(scopes))
    unknown = [scope for scope in scopes if scope not in ApiKey.SCOPES]
    if unknown or not scopes:
        raise ValueError(
            f"scopes must be among {', '.join(ApiKey.SCOPES)}; got {', '.join(unknown) or 'none'}"
        )
    name = integration_name.strip()
    if not name:
        raise ValueError("an API key needs the name of the integration that will use it")
    integration, _ = Integration.objects.get_or_create(name=name)
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    actor = current_actor_or_none()
    api_key = ApiKey.objects.create(
        integration=integration,
        prefix=raw_key[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(raw_key),
        scopes=scopes,
        created_by=actor.name if actor else "",
    )
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key for raw_key, or None. Marks it used."""
    api_key = (
        ApiKey.objects.select_related("integration")
        .filter(key_hash=hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    if (
        api_key.last_used_at is None
        or (now - api_key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
