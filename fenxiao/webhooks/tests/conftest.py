"""A real HTTP receiver on 127.0.0.1, in a thread, for the webhook tests."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """Records every POST; answers with the queued status codes, then `default`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: list[int] = []
        self.default = 200
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/fenxiao?from=test"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    code = receiver.replies.pop(0) if receiver.replies else receiver.default
                reply = b'{"ok": true}' if code < 300 else b"internal error"
                self.send_response(code)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        return Handler

    def event_ids(self) -> list[str]:
        return [r["headers"]["X-Fenxiao-Event-Id"] for r in self.requests]

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def receiver():
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
