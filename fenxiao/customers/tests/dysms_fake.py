"""Aliyun dysmsapi's SendSms on a local socket, for tests of the real SMS adapters."""

import json
import secrets
from urllib.parse import parse_qsl

from fenxiao.customers.sms import aliyun
from fenxiao.testing import LocalProvider


class FakeDysms(LocalProvider):
    """dysmsapi's SendSms on a local socket: checks the signature, records what it sent."""

    def __init__(self, key_id: str, secret: str):
        self.key_id, self.secret = key_id, secret
        self.sent: list[dict] = []
        self.refuse: dict | None = None
        self.start()

    def answer(self, method, path, headers, body):
        answer = self.handle(dict(parse_qsl(body.decode(), keep_blank_values=True)))
        return 200 if answer["Code"] == "OK" else 400, {}, json.dumps(answer, ensure_ascii=False).encode()

    def handle(self, params: dict) -> dict:
        given = params.pop("Signature", "")
        if params.get("AccessKeyId") != self.key_id:
            return {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        if given != aliyun.signature(params, self.secret):
            return {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        if self.refuse:
            return self.refuse
        self.sent.append(params)
        return {
            "Code": "OK",
            "Message": "OK",
            "BizId": secrets.token_hex(8),
            "RequestId": secrets.token_hex(8),
        }

    @property
    def endpoint(self) -> str:
        return self.base + "/"
