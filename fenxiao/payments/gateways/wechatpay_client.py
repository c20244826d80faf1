"""WeChat Pay API v3: signed requests, verified answers and decrypted notifications.

Every request carries the merchant's RSA-SHA256 signature (`Authorization:
WECHATPAY2-SHA256-RSA2048 …`). Every answer and every notification is signed by WeChat Pay
with the key of its "微信支付公钥" (public key mode, the one WeChat Pay issues to new
merchants); the `Wechatpay-Serial` header must name that key. A notification's payload is
encrypted with the merchant's APIv3 key (AEAD_AES_256_GCM).

Configuration comes from `settings.WECHATPAY` (see settings.py for the environment
variables); `problems()` lists what is missing or wrong, for the system check.
"""

import base64
import http.client
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from ..errors import GatewayUnreachable, NotificationMalformed, SignatureInvalid
from . import signing

TIMEOUT_SECONDS = 10
USER_AGENT = "fenxiao-wechatpay/1"
# Answers under this header are probes WeChat Pay sends to check that signatures are verified.
SIGN_TEST_PREFIX = "WECHATPAY/SIGNTEST/"

REQUIRED = (
    "MCHID",
    "APPID",
    "MERCHANT_SERIAL_NO",
    "PRIVATE_KEY_FILE",
    "API_V3_KEY",
    "PUBLIC_KEY_ID",
    "PUBLIC_KEY_FILE",
)


@dataclass(frozen=True)
class Reply:
    """A verified answer from the API. `data` is the JSON body ({} for 204)."""

    status: int
    data: dict

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> str:
        return str(self.data.get("code", ""))


def config() -> dict:
    return dict(getattr(settings, "WECHATPAY", {}) or {})


def problems() -> list[str]:
    """What stops the gateway from working, in plain words (empty when configured)."""
    cfg = config()
    missing = [name for name in REQUIRED if not cfg.get(name)]
    if missing:
        return [f"WECHATPAY_{name} is not set" for name in missing]
    found = []
    if len(cfg["API_V3_KEY"].encode()) != 32:
        found.append("WECHATPAY_API_V3_KEY must be the 32-character APIv3 key")
    found += signing.key_problems("WECHATPAY", cfg)
    if cfg.get("NEXT_PUBLIC_KEY_ID") and cfg.get("NEXT_PUBLIC_KEY_FILE"):
        try:
            signing.public_key(cfg["NEXT_PUBLIC_KEY_FILE"])
        except (OSError, ValueError, TypeError) as exc:
            found.append(f"WECHATPAY_NEXT_PUBLIC_KEY_FILE cannot be read as an RSA key: {exc}")
    return found


class WechatPayClient:
    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or config()
        self.mchid = self.cfg["MCHID"]
        self.appid = self.cfg["APPID"]
        self.base = self.cfg.get("API_BASE") or "https://api.mch.weixin.qq.com"

    def sign(self, message: str) -> str:
        """The merchant's signature of `message` (base64 RSA-SHA256)."""
        return signing.sign(self.cfg["PRIVATE_KEY_FILE"], message.encode())

    # --- requests ------------------------------------------------------------------------------
    def authorization(self, method: str, path: str, body: str, *, timestamp: str, nonce: str) -> str:
        signature = self.sign(f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n")
        return (
            f'WECHATPAY2-SHA256-RSA2048 mchid="{self.mchid}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{timestamp}",serial_no="{self.cfg["MERCHANT_SERIAL_NO"]}"'
        )

    def request(self, method: str, path: str, payload: dict | None = None) -> Reply:
        """Send one signed request. Raises `GatewayUnreachable` when no verified answer came
        back (network failure, timeout, or an answer whose signature does not hold): the
        caller cannot know what happened and must ask again later with the same numbers."""
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Wechatpay-Serial": self.cfg["PUBLIC_KEY_ID"],
            "Authorization": self.authorization(
                method, path, body, timestamp=str(int(time.time())), nonce=secrets.token_hex(16)
            ),
        }
        request = urllib.request.Request(  # noqa: S310 - the configured https API base
            self.base + path,
            data=body.encode() if payload is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                status, reply_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, reply_headers, raw = exc.code, exc.headers, exc.read()
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise GatewayUnreachable() from exc
        try:
            self.verify({k.lower(): v for k, v in reply_headers.items()}, raw)
        except SignatureInvalid as exc:
            # An answer WeChat Pay did not sign (a proxy's error page, or forged): not an answer.
            raise GatewayUnreachable() from exc
        try:
            data = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise GatewayUnreachable() from exc
        return Reply(status=status, data=data if isinstance(data, dict) else {})

    # --- what WeChat Pay sends ---------------------------------------------------------------
    def public_keys(self) -> dict[str, str]:
        """The 微信支付公钥 answers may be signed with, by id: the current one and, while
        WeChat Pay switches keys, the next one (both accepted until the switch is done)."""
        keys = {self.cfg["PUBLIC_KEY_ID"]: self.cfg["PUBLIC_KEY_FILE"]}
        if self.cfg.get("NEXT_PUBLIC_KEY_ID") and self.cfg.get("NEXT_PUBLIC_KEY_FILE"):
            keys[self.cfg["NEXT_PUBLIC_KEY_ID"]] = self.cfg["NEXT_PUBLIC_KEY_FILE"]
        return keys

    def verify(self, headers: dict[str, str], body: bytes) -> int:
        """Check the signature of an answer or a notification (headers in lower case);
        returns its timestamp."""
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        serial = headers.get("wechatpay-serial", "")
        if not (timestamp and nonce and signature) or signature.startswith(SIGN_TEST_PREFIX):
            raise SignatureInvalid()
        key_file = self.public_keys().get(serial)
        if key_file is None:
            raise SignatureInvalid()
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        signing.verify(key_file, message, signature)
        try:
            return int(timestamp)
        except ValueError as exc:
            raise SignatureInvalid() from exc

    def decrypt(self, resource: dict) -> dict:
        """The plaintext of a notification's `resource` (AEAD_AES_256_GCM with the APIv3 key)."""
        try:
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise NotificationMalformed()
            plain = AESGCM(self.cfg["API_V3_KEY"].encode()).decrypt(
                str(resource["nonce"]).encode(),
                base64.b64decode(resource["ciphertext"]),
                str(resource.get("associated_data") or "").encode(),
            )
            data = json.loads(plain)
        except InvalidTag as exc:
            raise SignatureInvalid() from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise NotificationMalformed() from exc
        if not isinstance(data, dict):
            raise NotificationMalformed()
        return data
