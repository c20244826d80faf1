"""Tencent Cloud SMS (腾讯云短信, API 3.0 `SendSms`, version 2021-01-11): the merchant's
approved templates, sent with their positional parameters ({1}, {2} …) under the
merchant's approved signature (签名) from one 短信应用 (SdkAppId).

Requests are POSTed as JSON and signed TC3-HMAC-SHA256 (Tencent Cloud's signature v3):
a SHA-256 of the canonical request (method, path, query, the signed headers content-type
and host, the body's hash) is signed with a key derived from the SecretKey through the
day, the service and "tc3_request". Configuration comes from `settings.SMS_TENCENT`; each
`SmsMessage.Template` maps to a template id worded as the mall's own text (see
`services.sms_codes.TEXTS`): the code templates take {1} the code and {2} its minutes.

Tencent answers HTTP 200 for refusals too: `Response.Error` refuses the whole request,
`Response.SendStatusSet[i].Code` says, number by number, whether it was sent ("Ok").
"""

import hashlib
import hmac
import json
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime

from django.conf import settings

from ..models import SmsMessage
from .base import SmsSendFailed, TemplateSmsGateway

SERVICE = "sms"
ACTION = "SendSms"
API_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
# The content type is one of the signed headers: what is sent and what is signed must be
# the same string, byte for byte.
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"
DEFAULT_REGION = "ap-guangzhou"
DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
REQUIRED = ("SECRET_ID", "SECRET_KEY", "SDK_APP_ID", "SIGN_NAME")
# The parameters of the mall's messages in the order its wording (sms_codes.TEXTS) uses
# them: Tencent templates are positional, so {1} is the code and {2} its minutes.
PARAM_ORDER = ("code", "minutes")
# Refusals about the number itself: sending again cannot succeed. Tencent spells both
# "InBlacklist" and "OnBlacklist", and "UnsuportedRegion" with one p.
PERMANENT = {
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberOnBlacklist",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    "UnsupportedOperation.UnsuportedRegion",
}


def config() -> dict:
    return dict(getattr(settings, "SMS_TENCENT", {}) or {})


def problems(*, with_templates: bool = True) -> list[str]:
    """What stops the gateway from sending, in plain words (empty when configured). The
    notices adapter needs the account but not the verification templates."""
    cfg = config()
    found = [f"SMS_TENCENT_{name} is not set" for name in REQUIRED if not cfg.get(name)]
    if not with_templates:
        return found
    templates = cfg.get("TEMPLATES") or {}
    found += [
        f"SMS_TENCENT_TEMPLATE_{template.upper()} (the template id of “{template.label}”) is not set"
        for template in SmsMessage.Template
        if not templates.get(template.value)
    ]
    return found


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signature(secret_key: str, *, host: str, payload: bytes, timestamp: int, service: str = SERVICE) -> str:
    """The hex TC3-HMAC-SHA256 signature of a POST to "/" with `payload` as its JSON body."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",  # no query string
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            SIGNED_HEADERS,
            _sha256_hex(payload),
        ]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, str(timestamp), f"{date}/{service}/tc3_request", _sha256_hex(canonical_request.encode())]
    )
    secret_date = _hmac(f"TC3{secret_key}".encode(), date)
    secret_service = _hmac(secret_date, service)
    secret_signing = _hmac(secret_service, "tc3_request")
    return hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


def authorization(
    secret_id: str, secret_key: str, *, host: str, payload: bytes, timestamp: int, service: str = SERVICE
) -> str:
    """The Authorization header of that request."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    sign = signature(secret_key, host=host, payload=payload, timestamp=timestamp, service=service)
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={sign}"
    )


def e164(phone: str) -> str:
    """Tencent's number format: +86 before a mainland number (the mall keeps 11 digits)."""
    return phone if phone.startswith("+") else f"+86{phone}"


class TencentSmsGateway(TemplateSmsGateway):
    name = "tencent"
    label = "腾讯云短信"

    config = staticmethod(config)

    def send(self, *, phone, text, template, params, reference) -> None:
        template_id = self.template_id(template)
        # The reminders (already registered, not registered) take no parameter at all.
        ordered = [str(params[name]) for name in PARAM_ORDER if name in params]
        send_template(self.cfg, phone=phone, template_id=template_id, params=ordered, reference=reference)


def send_template(cfg: dict, *, phone: str, template_id: str, params: list[str], reference: str) -> None:
    """One `SendSms` call: the approved template `template_id` with its positional `params`
    ({1} is params[0]), under the configured signature. Raises SmsSendFailed with Tencent's
    reason when it is not sent (permanent when the number cannot be texted)."""
    endpoint = cfg.get("ENDPOINT") or DEFAULT_ENDPOINT
    # Signed as Tencent reads it: header values in lower case.
    host = urllib.parse.urlsplit(endpoint).netloc.lower()
    payload = json.dumps(
        {
            "PhoneNumberSet": [e164(phone)],
            "SmsSdkAppId": str(cfg["SDK_APP_ID"]),
            "SignName": cfg["SIGN_NAME"],
            "TemplateId": str(template_id),
            "TemplateParamSet": [str(value) for value in params],
            # Tencent hands it back untouched: the outbox row a status report belongs to.
            "SessionContext": reference,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the configured https endpoint
        endpoint,
        data=payload,
        headers={
            "Authorization": authorization(
                cfg["SECRET_ID"], cfg["SECRET_KEY"], host=host, payload=payload, timestamp=timestamp
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": ACTION,
            "X-TC-Version": API_VERSION,
            "X-TC-Region": cfg.get("REGION") or DEFAULT_REGION,
            "X-TC-Timestamp": str(timestamp),
            # Error messages in Chinese: they are kept on the outbox row for staff to read.
            "X-TC-Language": "zh-CN",
        },
        method="POST",
    )
    raw = TemplateSmsGateway.exchange(request)
    _check(raw, e164(phone))


def _check(raw: bytes, number: str) -> None:
    """Raise SmsSendFailed unless Tencent's answer says `number` was sent."""
    try:
        answer = json.loads(raw)["Response"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SmsSendFailed(f"短信网关应答无法解析：{raw[:100]!r}") from exc
    if not isinstance(answer, dict):
        raise SmsSendFailed(f"短信网关应答无法解析：{raw[:100]!r}")
    error = answer.get("Error")
    if isinstance(error, dict):
        code = str(error.get("Code"))
        raise SmsSendFailed(f"短信网关拒绝发送：{code} {error.get('Message')}", permanent=code in PERMANENT)
    listed = answer.get("SendStatusSet")
    statuses = [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []
    # One number per request: its status is the one with its number (or the only one).
    status = next((s for s in statuses if s.get("PhoneNumber") == number), statuses[0] if statuses else None)
    if status is None:
        raise SmsSendFailed(f"短信网关未返回发送状态：RequestId {answer.get('RequestId')}")
    code = str(status.get("Code"))
    if code != "Ok":
        raise SmsSendFailed(f"短信网关拒绝发送：{code} {status.get('Message')}", permanent=code in PERMANENT)
