"""Aliyun SMS (阿里云短信服务, dysmsapi `SendSms`): the merchant's approved templates, sent
with their parameters under the merchant's approved signature (签名).

Requests are signed the RPC way (HMAC-SHA1 over the sorted, percent-encoded parameters,
keyed with the AccessKey secret). Configuration comes from `settings.SMS_ALIYUN`; each
`SmsMessage.Template` maps to a template code (SMS_…) worded as the mall's own text (see
`services.sms_codes.TEXTS`); the code templates take `${code}`, their one variable.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
import urllib.request

from django.conf import settings

from ..models import SmsMessage
from .base import SmsSendFailed, TemplateSmsGateway

API_VERSION = "2017-05-25"
REQUIRED = ("ACCESS_KEY_ID", "ACCESS_KEY_SECRET", "SIGN_NAME")
# Refusals about the number itself: sending again cannot succeed.
PERMANENT = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.BLACK_KEY_CONTROL_LIMIT", "isv.MOBILE_COUNT_OVER_LIMIT"}


def config() -> dict:
    return dict(getattr(settings, "SMS_ALIYUN", {}) or {})


def problems() -> list[str]:
    """What stops the gateway from sending, in plain words (empty when configured)."""
    cfg = config()
    found = [f"SMS_ALIYUN_{name} is not set" for name in REQUIRED if not cfg.get(name)]
    templates = cfg.get("TEMPLATES") or {}
    found += [
        f"SMS_ALIYUN_TEMPLATE_{template.upper()} (the template code of “{template.label}”) is not set"
        for template in SmsMessage.Template
        if not templates.get(template.value)
    ]
    return found


def percent(value: str) -> str:
    """Aliyun's percent-encoding: RFC 3986 unreserved characters kept, UTF-8 otherwise."""
    return urllib.parse.quote(str(value), safe="~")


def signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(f"{percent(key)}={percent(params[key])}" for key in sorted(params))
    string_to_sign = f"{method}&{percent('/')}&{percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsGateway(TemplateSmsGateway):
    name = "aliyun"
    label = "阿里云短信"

    config = staticmethod(config)

    def send(self, *, phone, text, template, params, reference) -> None:
        code = self.template_id(template)
        # Aliyun allows one variable in a 验证码 template: the code. Its lifetime is in the
        # template's fixed text.
        sent = {"code": params["code"]} if "code" in params else {}
        send_template(self.cfg, phone=phone, template_code=code, params=sent, reference=reference)


def send_template(cfg: dict, *, phone: str, template_code: str, params: dict, reference: str) -> None:
    """One `SendSms` call: the approved template `template_code` with `params`, under the
    configured signature. Raises SmsSendFailed with Aliyun's reason when it is not sent."""
    query = {
        "AccessKeyId": cfg["ACCESS_KEY_ID"],
        "Action": "SendSms",
        "Format": "JSON",
        "OutId": reference,
        "PhoneNumbers": phone,
        "RegionId": "cn-hangzhou",
        "SignName": cfg["SIGN_NAME"],
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": secrets.token_hex(16),
        "SignatureVersion": "1.0",
        "TemplateCode": template_code,
        "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "Version": API_VERSION,
    }
    query["Signature"] = signature(query, cfg["ACCESS_KEY_SECRET"])
    request = urllib.request.Request(  # noqa: S310 - the configured https endpoint
        cfg.get("ENDPOINT") or "https://dysmsapi.aliyuncs.com/",
        data=urllib.parse.urlencode(query).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    raw = TemplateSmsGateway.exchange(request)
    try:
        answer = json.loads(raw)
    except ValueError as exc:
        raise SmsSendFailed(f"短信网关应答无法解析：{raw[:100]!r}") from exc
    if not isinstance(answer, dict) or answer.get("Code") != "OK":
        detail = answer if not isinstance(answer, dict) else f"{answer.get('Code')} {answer.get('Message')}"
        permanent = isinstance(answer, dict) and answer.get("Code") in PERMANENT
        raise SmsSendFailed(f"短信网关拒绝发送：{detail}", permanent=permanent)
