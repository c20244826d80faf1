"""A small keep-alive HTTP/1.1 client on asyncio streams, and latency statistics.

The load generator shares the machine with the server, so it stays lean: one connection per
virtual user, no TLS, no redirects followed, bodies read by Content-Length or chunks.
"""

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode


class HttpError(Exception):
    """An answer the scenario did not expect (status, or a malformed reply)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str] = field(default_factory=list)

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Connection:
    """One keep-alive connection; reconnects when the server has closed it."""

    def __init__(self, host: str, port: int, *, timeout: float = 30):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def connect(self) -> None:
        """Open the connection now, e.g. so a race's first requests do not wait on it."""
        if self.writer is None:
            await self._open()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, *, headers=None, body: bytes = b"") -> Response:
        # A reused connection the server closed in between fails at once: retry it once, fresh.
        reused = self.writer is not None
        try:
            return await asyncio.wait_for(self._exchange(method, path, headers or {}, body), self.timeout)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            await self.close()
            # Only a connection closed before any answer is retried: a request that got part
            # of one may have been done, and a checkout must not be placed twice.
            answered = isinstance(exc, asyncio.IncompleteReadError) and exc.partial
            if not reused or answered:
                raise HttpError(f"{method} {path}: {exc!r}") from exc
        except BaseException:
            await self.close()
            raise
        return await asyncio.wait_for(self._exchange(method, path, headers or {}, body), self.timeout)

    async def _exchange(self, method, path, headers, body) -> Response:
        if self.writer is None:
            await self._open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        response = await read_response(self.reader)
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response


async def read_response(reader: asyncio.StreamReader) -> Response:
    status_line = await reader.readuntil(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise HttpError(f"not an HTTP response: {status_line[:80]!r}")
    status = int(parts[1])
    try:
        return await _read_rest(reader, status)
    except asyncio.IncompleteReadError as exc:  # answered in part: never retried
        raise HttpError(f"truncated response (HTTP {status})") from exc


async def _read_rest(reader: asyncio.StreamReader, status: int) -> Response:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "set-cookie":
            cookies.append(value)
        headers[name] = value
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Response(status, headers, body, cookies)


class Session:
    """A connection with a cookie jar and default headers: one virtual user."""

    def __init__(self, connection: Connection, headers: dict[str, str] | None = None):
        self.connection = connection
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}

    async def request(self, method, path, *, expect=(200,), headers=None, body=b"") -> Response:
        sent = dict(self.headers, **(headers or {}))
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = await self.connection.request(method, path, headers=sent, body=body)
        for cookie in response.set_cookies:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if response.status not in expect:
            raise HttpError(f"{method} {path}: HTTP {response.status} {response.text[:200]}")
        return response

    async def get(self, path, **kw) -> Response:
        return await self.request("GET", path, **kw)

    async def post_json(self, path, data, **kw) -> Response:
        body = json.dumps(data).encode()
        return await self.request("POST", path, headers={"Content-Type": "application/json"}, body=body, **kw)

    async def post_form(self, path, data, **kw) -> Response:
        body = urlencode(data).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return await self.request("POST", path, headers=headers, body=body, **kw)

    async def close(self) -> None:
        await self.connection.close()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0–100); NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Recorder:
    """What a timed run did: each successful operation's latency (seconds), and failures."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        if len(self.first_errors) < 5:
            self.first_errors.append(f"{type(exc).__name__}: {exc}"[:300])

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000

    def summary(self) -> dict:
        return {
            "count": self.count,
            "errors": self.errors,
            "seconds": round(self.elapsed, 3),
            "per_second": round(self.rate, 1),
            "p50_ms": round(self.ms(50), 1),
            "p99_ms": round(self.ms(99), 1),
            "first_errors": self.first_errors,
        }


async def run_for(
    duration: float, users: int, operation: Callable[[int], Awaitable[None]], *, recorder=None
) -> Recorder:
    """Run `operation(user)` back to back in `users` concurrent loops until `duration` has
    passed; an operation started before the end is finished and counted. The rate is over the
    time until the last one finished, so a slow tail is not flattered."""
    recorder = recorder or Recorder()
    start = time.perf_counter()
    deadline = start + duration

    async def loop(user: int) -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                await operation(user)
            except (TimeoutError, HttpError, OSError, ValueError, KeyError) as exc:
                recorder.error(exc)
                await asyncio.sleep(0.05)  # a refused or broken request must not spin
                continue
            recorder.latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(loop(user) for user in range(users)))
    recorder.elapsed = time.perf_counter() - start
    return recorder
