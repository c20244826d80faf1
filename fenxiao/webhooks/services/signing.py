"""The signature on every webhook POST (documented in fenxiao/webhooks/README.md).

    X-Fenxiao-Signature = hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))

`timestamp` is the X-Fenxiao-Timestamp header (Unix seconds, a decimal string) and `body` the
raw request body exactly as received (UTF-8 JSON). Signing the timestamp with the body lets a
receiver refuse an old request replayed later.
"""

import hashlib
import hmac


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
