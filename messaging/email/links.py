"""Signed links in e-mails: open pixel, click redirects, unsubscribe and preferences.

Each link carries its own facts (the message, the contact, the target URL) signed with the
secret key and a salt per kind, with a timestamp: a link whose token was altered, is older
than its maximum age or belongs to another kind of link is refused. A click redirects only
to the URL signed into it, so the redirect cannot be pointed anywhere else (no open redirect).

Tokens are exactly those of `django.core.signing.dumps` (read back with `signing.loads`, so
key rotation through `SECRET_KEY_FALLBACKS` works), written with the key derived once per
salt: an e-mail carries four to ten of them, and deriving the key again for each one cost
more than the rest of the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.encoding import force_bytes

OPEN, CLICK, UNSUBSCRIBE = "mops.email.open", "mops.email.click", "mops.email.unsubscribe"


class LinkRefused(ValueError):
    """A token that is not ours, was altered, or has expired."""


@dataclass(frozen=True)
class Tracked:
    message_id: int
    contact_id: int
    url: str = ""


def _max_age(salt: str) -> timedelta:
    days = (
        settings.EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS
        if salt == UNSUBSCRIBE
        else settings.EMAIL_TRACKING_MAX_AGE_DAYS
    )
    return timedelta(days=days)


@lru_cache(maxsize=16)
def _mac(salt: str, secret: bytes) -> hmac.HMAC:
    """The HMAC of a TimestampSigner with this salt, keyed, before any message is fed to it."""
    key = hashlib.sha256(f"{salt}signer".encode() + secret).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(salt: str, data: dict) -> str:
    """`signing.dumps(data, salt=salt)`, without deriving the key again."""
    payload = _b64(json.dumps(data, separators=(",", ":")).encode("latin-1"))
    value = f"{payload}:{signing.b62_encode(int(time.time()))}"
    mac = _mac(salt, force_bytes(settings.SECRET_KEY)).copy()
    mac.update(value.encode("ascii"))
    return f"{value}:{_b64(mac.digest())}"


def _read(salt: str, token: str) -> dict:
    try:
        data = signing.loads(token, salt=salt, max_age=_max_age(salt))
    except signing.SignatureExpired as error:
        raise LinkRefused("this link has expired") from error
    except signing.BadSignature as error:
        raise LinkRefused("this link is not valid") from error
    if not isinstance(data, dict):
        raise LinkRefused("this link is not valid")
    return data


def absolute(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


@lru_cache(maxsize=32)
def _around(name: str, public_url: str) -> tuple[str, str]:
    """What comes before and after the token in a link's URL (reversed once, not per e-mail)."""
    before, _, after = reverse(name, args=["TOKEN"]).partition("TOKEN")
    return public_url.rstrip("/") + before, after


def _url(name: str, token: str) -> str:
    before, after = _around(name, settings.PUBLIC_URL)
    return f"{before}{token}{after}"


def open_url(*, message_id: int, contact_id: int) -> str:
    return _url("email:open", _sign(OPEN, {"m": message_id, "c": contact_id}))


def click_url(*, message_id: int, contact_id: int, url: str) -> str:
    return _url("email:click", _sign(CLICK, {"m": message_id, "c": contact_id, "u": url}))


def unsubscribe_token(*, contact_id: int, message_id: int | None) -> str:
    return _sign(UNSUBSCRIBE, {"c": contact_id, "m": message_id or 0})


def unsubscribe_url(*, token: str) -> str:
    return _url("email:unsubscribe", token)


def preferences_url(*, token: str) -> str:
    return _url("email:preferences", token)


def opened(token: str) -> Tracked:
    data = _read(OPEN, token)
    return Tracked(message_id=int(data.get("m") or 0), contact_id=int(data.get("c") or 0))


def clicked(token: str) -> Tracked:
    data = _read(CLICK, token)
    url = data.get("u")
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        raise LinkRefused("this link is not valid")
    return Tracked(message_id=int(data.get("m") or 0), contact_id=int(data.get("c") or 0), url=url)


def unsubscriber(token: str) -> Tracked:
    data = _read(UNSUBSCRIBE, token)
    return Tracked(message_id=int(data.get("m") or 0), contact_id=int(data.get("c") or 0))
