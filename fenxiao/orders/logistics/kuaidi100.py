"""Kuaidi100 (快递100) tracking subscriptions (订阅推送 API).

The mall subscribes each waybill with its callback URL and the subscription's own random
`salt`; Kuaidi100 then pushes the whole trail on every change as a form (`param`, `sign`)
signed MD5(param + salt), upper-case hex, as its API specifies. The salt is appended after
the data, and each parcel has its own, so a push cannot be forged without it.
Configuration: `settings.KUAIDI100` (the customer's 授权 key; `KUAIDI100_KEY`).
"""

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils.translation import gettext_lazy

from fenxiao.shipping.carriers import Carrier

from ..errors import TrackingSignatureInvalid
from .base import SubscribeResult, TrackingProvider, TrackingPush, parse_kuaidi100_param

TIMEOUT_SECONDS = 10
# Answers that retrying cannot change: the carrier is not supported or refuses
# subscriptions, or the number matches no carrier.
FINAL_REFUSALS = {"700", "701", "702"}
# "Already subscribed": the subscription stands.
DUPLICATE = "501"


def kuaidi100_sign(param: str, salt: str) -> str:
    return hashlib.md5((param + salt).encode()).hexdigest().upper()  # noqa: S324 - Kuaidi100's scheme


class Kuaidi100Tracking(TrackingProvider):
    name = "kuaidi100"
    label = gettext_lazy("快递100")

    def subscribe(self, *, carrier, number, callback_url, salt, destination="", phone="") -> SubscribeResult:
        if carrier not in Carrier.values or carrier == Carrier.OTHER:
            return SubscribeResult(accepted=False, retryable=False, message="该物流公司不支持轨迹订阅")
        # resultv2=4: every trail line carries its own (advanced) state code.
        parameters = {"callbackurl": callback_url, "salt": salt, "resultv2": "4"}
        if phone and carrier == Carrier.SF:
            parameters["phone"] = phone  # 顺丰 shows a trail only with the recipient's phone
        request_param = {
            "company": carrier,
            "number": number,
            "key": settings.KUAIDI100["KEY"],
            "parameters": parameters,
        }
        if destination:
            request_param["to"] = destination
        body = urllib.parse.urlencode(
            {"schema": "json", "param": json.dumps(request_param, ensure_ascii=False, separators=(",", ":"))}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the configured https endpoint
            settings.KUAIDI100["ENDPOINT"],
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            return SubscribeResult(accepted=False, message=f"快递100 HTTP {exc.code}")
        # Unreachable (OSError) propagates: the outbox row is tried again later.
        try:
            answer = json.loads(raw)
            code = str(answer.get("returnCode", ""))
        except (ValueError, AttributeError):
            return SubscribeResult(accepted=False, message=f"快递100 应答无法解析：{raw[:100]!r}")
        if answer.get("result") is True or code == DUPLICATE:
            # 501: the waybill is already followed (another order's parcel shipped under it);
            # its pushes are recorded on every parcel with the waybill (`record_push`).
            return SubscribeResult(accepted=True)
        message = f"快递100 {code} {answer.get('message', '')}".strip()
        return SubscribeResult(accepted=False, retryable=code not in FINAL_REFUSALS, message=message)

    def parse_push(self, form, salt) -> TrackingPush:
        param, signature = form.get("param") or "", form.get("sign") or ""
        if not (
            salt and signature and hmac.compare_digest(kuaidi100_sign(param, salt), signature.strip().upper())
        ):
            raise TrackingSignatureInvalid()
        return parse_kuaidi100_param(param)
