"""Alipay's open API (支付宝开放平台): RSA2-signed requests, verified answers and
notifications, and amounts in yuan strings.

Every request is the common parameters plus `biz_content`, signed RSA-SHA256 with the
app's private key over the sorted `key=value` pairs. Every answer is signed by Alipay over
the exact text of its `…_response` object, and every notification over its sorted form
fields, with the Alipay public key (公钥 mode). Configuration comes from
`settings.ALIPAY`; `problems()` lists what is missing or wrong, for the system check.
"""

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils import timezone

from ..errors import GatewayUnreachable, SignatureInvalid
from . import signing

TIMEOUT_SECONDS = 10
REQUIRED = ("APP_ID", "PRIVATE_KEY_FILE", "PUBLIC_KEY_FILE")
_YUAN = re.compile(r"^([0-9]{1,9})(?:\.([0-9]{1,2}))?$")


def config() -> dict:
    return dict(getattr(settings, "ALIPAY", {}) or {})


def problems() -> list[str]:
    cfg = config()
    missing = [f"ALIPAY_{name} is not set" for name in REQUIRED if not cfg.get(name)]
    if missing:
        return missing
    return signing.key_problems("ALIPAY", cfg)


def yuan(fen: int) -> str:
    """Alipay's amount: yuan with two decimals, from integer fen (no float on the way)."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen(amount: str) -> int:
    """Integer fen from Alipay's yuan string; ValueError when it is not one."""
    match = _YUAN.match(str(amount).strip())
    if not match:
        raise ValueError(f"not an amount: {amount!r}")
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def china_time(moment) -> str:
    return timezone.localtime(moment, timezone.get_fixed_timezone(480)).strftime("%Y-%m-%d %H:%M:%S")


def sign_content(params: dict) -> str:
    """The string Alipay signs: every non-empty parameter but the signature, sorted."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key != "sign" and params[key] not in ("", None)
    )


class AlipayClient:
    def __init__(self, cfg: dict | None = None):
        self.cfg = cfg or config()
        self.app_id = self.cfg["APP_ID"]
        self.gateway = self.cfg.get("GATEWAY") or "https://openapi.alipay.com/gateway.do"

    def sign(self, content: str) -> str:
        return signing.sign(self.cfg["PRIVATE_KEY_FILE"], content.encode())

    def verify(self, content: str, signature: str) -> None:
        signing.verify(self.cfg["PUBLIC_KEY_FILE"], content.encode(), signature)

    def signed(self, method: str, biz: dict, **extra: str) -> dict[str, str]:
        """The request's parameters, signed: what a form posts or a call sends."""
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": china_time(timezone.now()),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
            **{key: value for key, value in extra.items() if value},
        }
        params["sign"] = self.sign(sign_content(params))
        return params

    def call(self, method: str, biz: dict) -> dict:
        """One API call; returns its verified `…_response` object. Raises GatewayUnreachable
        when no verified answer came back: the caller asks again later."""
        body = urllib.parse.urlencode(self.signed(method, biz)).encode()
        request = urllib.request.Request(  # noqa: S310 - the configured https gateway
            self.gateway,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                text = response.read().decode("utf-8")
        except (OSError, ValueError, http.client.HTTPException) as exc:  # incl. UnicodeDecodeError
            raise GatewayUnreachable() from exc
        node = method.replace(".", "_") + "_response"
        try:
            raw, signature = _response_text(text, node)
            self.verify(raw, signature)
            answer = json.loads(raw)
        except (ValueError, IndexError, TypeError, AttributeError, SignatureInvalid) as exc:
            # Unsigned or not Alipay's (a proxy's page, or forged): not an answer.
            raise GatewayUnreachable() from exc
        if not isinstance(answer, dict):
            raise GatewayUnreachable()
        return answer

    def verify_notification(self, form: dict[str, str]) -> None:
        signature = form.get("sign", "")
        if not signature:
            raise SignatureInvalid()
        self.verify(
            sign_content({k: v for k, v in form.items() if k not in ("sign", "sign_type")}), signature
        )


def _response_text(text: str, node: str) -> tuple[str, str]:
    """The exact text of the answer's `node` object (what Alipay signed) and its signature."""
    start = text.find(f'"{node}"')
    if start < 0:
        raise ValueError("no response object")
    start = text.index(":", start + len(node) + 2) + 1
    while text[start].isspace():
        start += 1
    _, end = json.JSONDecoder().raw_decode(text, start)
    signature = json.loads(text).get("sign")
    if not signature:
        raise ValueError("unsigned answer")
    return text[start:end], signature
