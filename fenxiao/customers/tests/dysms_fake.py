"""Aliyun dysmsapi's SendSms on a local socket, for tests of the real SMS adapters."""

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from fenxiao.customers.sms import aliyun


class FakeDysms:
    """dysmsapi's SendSms on a local socket: checks the signature, records what it sent."""

    def __init__(self, key_id: str, secret: str):
        self.key_id, self.secret = key_id, secret
        self.sent: list[dict] = []
        self.refuse: dict | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                answer = fake.handle(dict(parse_qsl(body, keep_blank_values=True)))
                raw = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(200 if answer["Code"] == "OK" else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
