"""POS API keys and request signing.

Invariant: a request is accepted only when its key is active, its timestamp is within
WINDOW seconds of the server clock, its signature is the HMAC-SHA256 of the canonical string
under the key's secret (compared in constant time), and its nonce was never used by that key
before — the last enforced by a unique (key, nonce) row, so two copies of one request racing
each other still pass once. Nonces older than the window are swept: a request that old is
refused by its timestamp anyway.

Canonical string (UTF-8), lines joined by "\\n":

    {timestamp}\\n{nonce}\\n{METHOD}\\n{path}\\n{hex sha256 of the raw body}

`path` is the request path without host or query string (e.g. `/api/v1/pos/stock`); GET
requests sign the sha256 of the empty body. The signature header is the lowercase hex digest.

The secret is derived, not stored: HMAC(SECRET_KEY, "fenxiao.stores.pos-api-key", key id and
a random per-key salt). It is shown once at creation; the server recomputes it per request.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ..pos_errors import (
    PosKeyMissing,
    PosKeyUnknown,
    PosNonceInvalid,
    PosReplayed,
    PosSignatureInvalid,
    PosTimestampInvalid,
)
from ..pos_models import PosApiKey, PosNonce

WINDOW = 300  # seconds either side of the server clock
HEADER_KEY = "X-Fenxiao-Key"
HEADER_TIMESTAMP = "X-Fenxiao-Timestamp"
HEADER_NONCE = "X-Fenxiao-Nonce"
HEADER_SIGNATURE = "X-Fenxiao-Signature"
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KEY_PATTERN = re.compile(r"^pk_[0-9a-f]{16,32}$")
_SECRET_SALT = "fenxiao.stores.pos-api-key"


def secret_for(key: PosApiKey) -> str:
    return salted_hmac(_SECRET_SALT, f"{key.key_id}:{key.salt}", algorithm="sha256").hexdigest()


def create_key(store, *, name: str = "", created_by=None) -> tuple[PosApiKey, str]:
    """A new active key for `store` and its secret (show it once; it is not stored)."""
    key = PosApiKey(store=store, name=name, created_by=created_by)
    return key, issue(key)


def issue(key: PosApiKey) -> str:
    """Give an unsaved key its id and salt, save it, and return its secret."""
    key.key_id = f"pk_{secrets.token_hex(12)}"
    key.salt = secrets.token_hex(16)
    key.is_active = True
    key.save()
    return secret_for(key)


def revoke_keys(key_ids) -> int:
    """Stop keys at once (a conditional UPDATE: revoking twice changes nothing)."""
    return PosApiKey.objects.filter(pk__in=key_ids, is_active=True).update(
        is_active=False, revoked_at=timezone.now()
    )


def canonical(timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    return "\n".join([timestamp, nonce, method.upper(), path, hashlib.sha256(body).hexdigest()])


def sign(secret: str, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    """The signature a caller sends (also what the tests and the README example use)."""
    message = canonical(timestamp, nonce, method, path, body).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def authenticate(headers, method: str, path: str, body: bytes, now=None) -> PosApiKey:
    """The active key that signed this request, or a PosAuthError (401) saying why not."""
    now = now or timezone.now()
    key_id = (headers.get(HEADER_KEY) or "").strip()
    timestamp = (headers.get(HEADER_TIMESTAMP) or "").strip()
    nonce = (headers.get(HEADER_NONCE) or "").strip()
    signature = (headers.get(HEADER_SIGNATURE) or "").strip().lower()
    if not (key_id and timestamp and nonce and signature):
        raise PosKeyMissing()
    if not KEY_PATTERN.match(key_id):
        raise PosKeyUnknown()
    key = PosApiKey.objects.select_related("store").filter(key_id=key_id, is_active=True).first()
    if key is None:
        raise PosKeyUnknown()
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise PosTimestampInvalid()
    if abs(int(timestamp) - int(now.timestamp())) > WINDOW:
        raise PosTimestampInvalid()
    if not NONCE_PATTERN.match(nonce):
        raise PosNonceInvalid()
    expected = sign(secret_for(key), timestamp, nonce, method, path, body)
    if not hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace")):
        raise PosSignatureInvalid()
    try:
        with transaction.atomic():
            PosNonce.objects.create(key=key, nonce=nonce, created_at=now)
    except IntegrityError:
        raise PosReplayed() from None
    # Last use at minute precision: one UPDATE per key and minute, not one per request.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        PosApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def sweep_nonces(now=None) -> int:
    """Forget nonces older than twice the window (their requests fail the timestamp check)."""
    now = now or timezone.now()
    deleted, _ = PosNonce.objects.filter(created_at__lt=now - timedelta(seconds=2 * WINDOW)).delete()
    return deleted
