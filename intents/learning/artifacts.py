"""A trained classifier as bytes, and back. Unpickling runs code, so the bytes carry an
HMAC made with the installation's secret key, and only bytes whose HMAC checks out are
ever loaded: an artifact this installation did not write is refused."""

from __future__ import annotations

import hashlib
import hmac
import io

import joblib
from django.conf import settings

from intents.learning.classifier import IntentClassifier

MAGIC = b"MOPS-INTENTS-1\n"
MAC_SIZE = hashlib.sha256().digest_size


class ArtifactError(ValueError):
    pass


def _mac(payload: bytes) -> bytes:
    key = hashlib.sha256(b"intents.artifact:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).digest()


def dumps(classifier: IntentClassifier) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(classifier, buffer, compress=3)
    payload = buffer.getvalue()
    return MAGIC + _mac(payload) + payload


def loads(data: bytes) -> IntentClassifier:
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise ArtifactError("not an intent model artifact")
    mac, payload = data[len(MAGIC) : len(MAGIC) + MAC_SIZE], data[len(MAGIC) + MAC_SIZE :]
    if not hmac.compare_digest(mac, _mac(payload)):
        raise ArtifactError(
            "the artifact's signature does not match: it was not written by this installation"
        )
    classifier = joblib.load(io.BytesIO(payload))
    if not isinstance(classifier, IntentClassifier):
        raise ArtifactError(f"the artifact holds a {type(classifier).__name__}, not an intent classifier")
    return classifier
