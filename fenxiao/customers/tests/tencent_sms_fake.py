"""Tencent Cloud SMS's SendSms (API 3.0) on a local socket, for tests of the real SMS adapters.

It checks each request the way Tencent documents it, with its own code (not the adapter's):
the TC3-HMAC-SHA256 signature is recomputed from the headers and body that arrived, so an
adapter that signs something other than what it sends is refused with
AuthFailure.SignatureFailure, as Tencent would refuse it.
"""

import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import UTC, datetime

from fenxiao.testing import LocalProvider

AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
# Tencent refuses a request whose X-TC-Timestamp is further than this from its own clock.
CLOCK_SKEW_SECONDS = 300


def tc3_signature(
    secret_key: str,
    *,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    signed_headers: list[str],
    payload: bytes,
    timestamp: int,
    date: str,
    service: str,
) -> str:
    """Signature v3 as Tencent's documentation computes it on the receiving side: the signed
    headers, names and values lowercased and trimmed, in ASCII order of their names."""
    lowered = {name.lower(): value for name, value in headers.items()}
    names = sorted(signed_headers)
    canonical_headers = "".join(f"{name}:{lowered.get(name, '').strip().lower()}\n" for name in names)
    canonical = (
        f"{method}\n{path}\n{query}\n{canonical_headers}\n{';'.join(names)}\n"
        f"{hashlib.sha256(payload).hexdigest()}"
    )
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def error(code: str, message: str) -> dict:
    return {"Error": {"Code": code, "Message": message}}


class FakeTencentSms(LocalProvider):
    """SendSms on a local socket: checks the signature and the request, records what it
    sent. `error` refuses the next requests as a whole (Response.Error); `statuses` answers a
    number with another per-number code than "Ok"; `templates` (template id → how many
    variables) refuses a template it does not know or the wrong number of parameters."""

    def __init__(
        self, secret_id: str, secret_key: str, sdk_app_id: str, templates: dict[str, int] | None = None
    ):
        self.secret_id, self.secret_key, self.sdk_app_id = secret_id, secret_key, sdk_app_id
        self.templates = templates
        self.sent: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.error: dict | None = None
        self.statuses: dict[str, tuple[str, str]] = {}
        self.start()

    def reset(self) -> None:
        self.sent.clear()
        self.headers.clear()
        self.error = None
        self.statuses = {}

    def answer(self, method, path, headers, body):
        received = {name.lower(): value for name, value in headers.items()}
        response = self.handle(method, path, received, body)
        response["RequestId"] = secrets.token_hex(16)
        # Tencent answers 200 for a refusal too; the refusal is in the body.
        return 200, {}, json.dumps({"Response": response}, ensure_ascii=False).encode()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> dict:
        if headers.get("x-tc-action") != "SendSms":
            return error("InvalidAction", "接口不存在。")
        if headers.get("x-tc-version") != "2021-01-11":
            return error("NoSuchVersion", "接口版本不存在。")
        if not headers.get("x-tc-region"):
            return error("MissingParameter", "缺少参数 Region。")
        refused = self.check_signature(method, path, headers, body)
        if refused:
            return refused
        self.headers.append(headers)
        try:
            request = json.loads(body)
        except ValueError:
            return error("FailedOperation.JsonParseFail", "解析请求包体时候失败。")
        if request.get("SmsSdkAppId") != self.sdk_app_id:
            return error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId 不存在。")
        if self.error:
            return {"Error": dict(self.error)}
        params = request.get("TemplateParamSet") or []
        if not all(isinstance(value, str) for value in params):
            return error("InvalidParameter", "TemplateParamSet 须为字符串数组。")
        if self.templates is not None and self.templates.get(request.get("TemplateId")) != len(params):
            return error("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配。")
        statuses = [self.status(number, request) for number in request.get("PhoneNumberSet") or []]
        if statuses and all(status["Code"] == "Ok" for status in statuses):
            self.sent.append(request)
        return {"SendStatusSet": statuses}

    def check_signature(self, method: str, path: str, headers: dict[str, str], body: bytes) -> dict | None:
        match = AUTHORIZATION.match(headers.get("authorization", ""))
        if not match:
            return error("AuthFailure.InvalidAuthorization", "请求头部的 Authorization 不符合腾讯云标准。")
        if match["id"] != self.secret_id:
            return error("AuthFailure.SecretIdNotFound", "密钥不存在。")
        try:
            timestamp = int(headers.get("x-tc-timestamp", ""))
        except ValueError:
            return error("MissingParameter", "缺少参数 Timestamp。")
        if abs(time.time() - timestamp) > CLOCK_SKEW_SECONDS:
            return error("AuthFailure.SignatureExpire", "签名过期。")
        signed = match["signed"].split(";")
        if match["service"] != "sms" or match["date"] != datetime.fromtimestamp(timestamp, UTC).strftime(
            "%Y-%m-%d"
        ):
            # The credential's day must be the timestamp's (UTC) and the service must be sms.
            return error("AuthFailure.SignatureFailure", "请求签名验证失败，请检查您的签名计算是否正确。")
        path, _, query = path.partition("?")
        expected = tc3_signature(
            self.secret_key,
            method=method,
            path=path,
            query=query,
            headers=headers,
            signed_headers=signed,
            payload=body,
            timestamp=timestamp,
            date=match["date"],
            service=match["service"],
        )
        if not {"content-type", "host"} <= set(signed) or not hmac.compare_digest(
            expected, match["signature"]
        ):
            return error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. Please check your signature is correct.",
            )
        return None

    def status(self, number: str, request: dict) -> dict:
        code, message = self.statuses.get(number, ("Ok", "send success"))
        return {
            "SerialNo": secrets.token_hex(12) if code == "Ok" else "",
            "PhoneNumber": number,
            "Fee": 1 if code == "Ok" else 0,
            "SessionContext": request.get("SessionContext", ""),
            "Code": code,
            "Message": message,
            "IsoCode": "CN",
        }

    @property
    def endpoint(self) -> str:
        return self.base
