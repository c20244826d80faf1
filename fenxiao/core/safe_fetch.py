"""Fetching a file a merchant named by URL (a product image in an import), safely.

A URL typed into a spreadsheet must not make the server reach its own network (SSRF): the
metadata service at 169.254.169.254, the database, an admin port on localhost. So:

- only http and https, no user:password@ in the address;
- the host is resolved once here and EVERY address it resolves to must be public (not
  private, loopback, link-local, reserved, multicast or unspecified; IPv4 mapped into IPv6
  is unwrapped first); the connection then goes to that checked address (pinned), so a
  second DNS answer cannot swap in a private one (DNS rebinding). HTTPS still verifies the
  certificate against the host name;
- redirects are followed by hand, at most MAX_REDIRECTS, each new address checked again;
- a timeout on connect and read, and a size limit enforced while reading (the
  Content-Length header is only a first hint);
- an image must say it is one (Content-Type) and Pillow must agree it is a JPEG, PNG, WebP
  or GIF of sane dimensions.

Every refusal is a `FetchRefused` with a Chinese message, which an import shows as a row
error. Tests replace `resolve` and `send` (never the network).
"""

import http.client
import io
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = 10
MAX_REDIRECTS = 3
MAX_PIXELS = 40_000_000  # 40 megapixels: a decompression bomb stops here
USER_AGENT = "FenxiaoImageFetcher/1.0"
# Pillow's format name -> (content types that may announce it, file extension)
IMAGE_FORMATS = {
    "JPEG": ({"image/jpeg", "image/jpg", "image/pjpeg"}, "jpg"),
    "PNG": ({"image/png"}, "png"),
    "WEBP": ({"image/webp"}, "webp"),
    "GIF": ({"image/gif"}, "gif"),
}
REDIRECTS = {301, 302, 303, 307, 308}


class FetchRefused(DomainError):
    code = "FETCH_REFUSED"
    message = "图片下载失败"


@dataclass
class Response:
    status: int
    headers: dict  # lower-case names
    body: io.RawIOBase | io.BufferedIOBase  # .read(n)
    close: object = None


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str


@dataclass
class FetchedImage:
    url: str
    content: bytes
    format: str  # "JPEG", "PNG", "WEBP", "GIF"
    extension: str


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (a literal IP resolves to itself, offline)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchRefused("无法解析图片链接的域名") from exc
    return list(dict.fromkeys(info[4][0] for info in infos))


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, verifying the certificate for the host name."""

    def __init__(self, host, address, port, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def send(scheme: str, address: str, port: int, host: str, target: str, timeout: float) -> Response:
    """One GET to `address` (already checked) for `host`; the caller reads and closes."""
    if scheme == "https":
        conn = _PinnedHTTPSConnection(host, address, port, timeout)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    default_port = 443 if scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
    conn.request("GET", target, headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": "image/*"})
    reply = conn.getresponse()
    return Response(
        status=reply.status,
        headers={k.lower(): v for k, v in reply.getheaders()},
        body=reply,
        close=conn.close,
    )


def _checked_target(url: str):
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchRefused("图片链接地址无效") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchRefused("只支持 http 或 https 开头的图片链接")
    if not parts.hostname or parts.username or parts.password:
        raise FetchRefused("图片链接地址无效")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname, port)
    if not addresses:
        raise FetchRefused("无法解析图片链接的域名")
    if not all(is_public(a) for a in addresses):
        raise FetchRefused("图片链接指向内网或保留地址，已拒绝")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.scheme, addresses[0], port, parts.hostname, target


def fetch(url: str, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT) -> Fetched:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        scheme, address, port, host, target = _checked_target(current)
        try:
            reply = send(scheme, address, port, host, target, timeout)
        except (OSError, http.client.HTTPException) as exc:
            message = "连接超时" if isinstance(exc, TimeoutError | socket.timeout) else "无法连接"
            raise FetchRefused(f"图片下载失败（{message}）") from exc
        try:
            if reply.status in REDIRECTS:
                location = reply.headers.get("location")
                if not location:
                    raise FetchRefused("图片下载失败（重定向地址缺失）")
                current = urljoin(current, location)
                continue
            if reply.status != 200:
                raise FetchRefused(f"图片下载失败（HTTP {reply.status}）")
            length = reply.headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise FetchRefused(f"图片超过 {max_bytes // (1024 * 1024)}MB")
            try:
                content = reply.body.read(max_bytes + 1)
            except (OSError, http.client.HTTPException) as exc:
                raise FetchRefused("图片下载失败（读取中断）") from exc
            if len(content) > max_bytes:
                raise FetchRefused(f"图片超过 {max_bytes // (1024 * 1024)}MB")
            content_type = reply.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            return Fetched(url=current, content=content, content_type=content_type)
        finally:
            if callable(reply.close):
                reply.close()
    raise FetchRefused("图片链接重定向次数过多")


def check_image(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(Pillow format, extension) of an image we accept, or FetchRefused. `content_type`,
    when given (a download), must announce the same kind of image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            fmt = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise FetchRefused("不是有效的图片文件（只支持 JPG、PNG、WebP、GIF）") from exc
    if fmt not in IMAGE_FORMATS:
        raise FetchRefused("图片格式不支持（只支持 JPG、PNG、WebP、GIF）")
    if width * height > MAX_PIXELS:
        raise FetchRefused("图片尺寸过大")
    types, extension = IMAGE_FORMATS[fmt]
    if content_type is not None and content_type not in types:
        raise FetchRefused("链接返回的不是图片（Content-Type 不符）")
    return fmt, extension


def fetch_image(url: str, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT) -> FetchedImage:
    fetched = fetch(url, max_bytes=max_bytes, timeout=timeout)
    if not fetched.content_type.startswith("image/"):
        raise FetchRefused("链接返回的不是图片")
    fmt, extension = check_image(fetched.content, fetched.content_type)
    return FetchedImage(url=fetched.url, content=fetched.content, format=fmt, extension=extension)
