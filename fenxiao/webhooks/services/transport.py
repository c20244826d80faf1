"""One webhook POST with the standard library, with timeouts and the address checks of
`core.safe_fetch`: in production an endpoint must resolve only to public addresses, and the
connection goes to the checked address (pinned), so a second DNS answer cannot swap in a
private one. Redirects are not followed (a 3xx is a failure). `WEBHOOK_ALLOW_PRIVATE`
(on under DEBUG, demo mode and tests) lets a developer point an endpoint at localhost.

Tests replace nothing here: they run a real receiver on 127.0.0.1.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from fenxiao.core import safe_fetch

from ..errors import EndpointInvalid, EndpointRefused

USER_AGENT = "Fenxiao-Webhooks/1.0"
EXCERPT = 200


@dataclass
class Reply:
    status: int
    excerpt: str


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


def check_url(url: str) -> None:
    """What can be checked without the network when staff save an endpoint."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise EndpointInvalid(_("推送地址无效")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointInvalid(_("推送地址须以 http:// 或 https:// 开头"))
    if parts.username or parts.password:
        raise EndpointInvalid(_("推送地址不能包含用户名或密码"))
    if allow_private():
        return
    if parts.hostname.lower() in ("localhost", "localhost.localdomain") or parts.hostname.endswith(".local"):
        raise EndpointRefused()
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return  # a name: checked on each send, when it is resolved
    if not safe_fetch.is_public(parts.hostname):
        raise EndpointRefused()


def _target(url: str):
    check_url(url)
    parts = urlsplit(url.strip())
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        # A Chinese domain (例子.中国) goes on the wire in its ASCII form, in the Host
        # header and for TLS too: a header must be Latin-1, so the name as typed failed
        # every send with a UnicodeEncodeError.
        hostname = parts.hostname.encode("idna").decode("ascii")
        infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EndpointInvalid(_("无法解析推送地址的域名")) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise EndpointInvalid(_("无法解析推送地址的域名"))
    if not allow_private() and not all(safe_fetch.is_public(a) for a in addresses):
        raise EndpointRefused()
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, addresses[0], port, hostname, path


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, verifying the certificate for the host name."""

    def __init__(self, host, address, port, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Reply:
    """POST `body`; returns the reply's status and the start of its body. Raises
    `EndpointInvalid`/`EndpointRefused` for an address refused, OSError or
    HTTPException for a connection that failed or timed out."""
    scheme, address, port, host, path = _target(url)
    if scheme == "https":
        conn = _PinnedHTTPSConnection(host, address, port, timeout)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    default = 443 if scheme == "https" else 80
    name = f"[{host}]" if ":" in host else host
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={
                "Host": name if port == default else f"{name}:{port}",
                "User-Agent": USER_AGENT,
                "Content-Type": "application/json; charset=utf-8",
                **headers,
            },
        )
        reply = conn.getresponse()
        excerpt = reply.read(EXCERPT * 4)[: EXCERPT * 4].decode("utf-8", "replace")[:EXCERPT]
        return Reply(status=reply.status, excerpt=excerpt)
    finally:
        conn.close()
