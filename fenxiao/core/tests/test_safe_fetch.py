"""The image fetcher refuses anything but a public http(s) address serving a real image of
limited size, including after redirects. No test reaches the network: `resolve` and `send`
are replaced, and the private addresses are literal IPs (resolved offline)."""

import io
import ipaddress

import pytest
from PIL import Image

from fenxiao.core import safe_fetch
from fenxiao.core.safe_fetch import FetchRefused


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#c00").save(buffer, "PNG")
    return buffer.getvalue()


class FakeWeb:
    """Hosts resolve to public addresses; `pages` maps a URL path to (status, headers, body)."""

    def __init__(self, pages, addresses=None):
        self.pages = pages
        self.addresses = addresses or {}
        self.sent = []

    def resolve(self, host, port):
        try:
            return [str(ipaddress.ip_address(host))]  # a literal address is itself
        except ValueError:
            return self.addresses.get(host, ["93.184.216.34"])

    def send(self, scheme, address, port, host, target, timeout):
        self.sent.append((scheme, address, host, target))
        status, headers, body = self.pages[target]
        return safe_fetch.Response(status=status, headers=headers, body=io.BytesIO(body))


@pytest.fixture
def web(monkeypatch):
    def install(pages, addresses=None):
        fake = FakeWeb(pages, addresses)
        monkeypatch.setattr(safe_fetch, "resolve", fake.resolve)
        monkeypatch.setattr(safe_fetch, "send", fake.send)
        return fake

    return install


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.png",
        "http://10.1.2.3/a.png",
        "http://192.168.1.1/a.png",
        "http://172.16.0.9/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://[fe80::1]/a.png",
        "http://0.0.0.0/a.png",
        "http://localhost/a.png",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("must not connect")

    monkeypatch.setattr(safe_fetch, "send", no_network)
    with pytest.raises(FetchRefused, match="内网或保留地址|无法解析"):
        safe_fetch.fetch_image(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.png", "只支持 http 或 https"),
        ("file:///etc/passwd", "只支持 http 或 https"),
        ("http://user:pw@example.com/a.png", "地址无效"),
        ("http://example.com:99999/a.png", "地址无效"),
    ],
)
def test_only_plain_http_and_https_addresses(url, message):
    with pytest.raises(FetchRefused, match=message):
        safe_fetch.fetch_image(url)


def test_a_host_resolving_to_any_private_address_is_refused(web):
    fake = web(
        {"/a.png": (200, {"content-type": "image/png"}, png_bytes())},
        {"shop.example": ["93.184.216.34", "10.0.0.5"]},
    )
    with pytest.raises(FetchRefused, match="内网"):
        safe_fetch.fetch_image("https://shop.example/a.png")
    assert fake.sent == []


def test_a_public_image_is_fetched_from_the_checked_address(web):
    fake = web({"/img/a.png?v=2": (200, {"content-type": "image/png"}, png_bytes())})
    image = safe_fetch.fetch_image("https://cdn.example.com/img/a.png?v=2")
    assert (image.format, image.extension) == ("PNG", "png")
    assert fake.sent == [("https", "93.184.216.34", "cdn.example.com", "/img/a.png?v=2")]


def test_a_redirect_to_a_private_address_is_refused_before_connecting(web):
    fake = web({"/a.png": (302, {"location": "http://169.254.169.254/latest/"}, b"")})
    with pytest.raises(FetchRefused, match="内网"):
        safe_fetch.fetch_image("http://cdn.example.com/a.png")
    assert len(fake.sent) == 1


def test_redirects_are_followed_a_few_times_only(web):
    fake = web(
        {
            "/a.png": (301, {"location": "/b.png"}, b""),
            "/b.png": (200, {"content-type": "image/png"}, png_bytes()),
            "/loop": (302, {"location": "/loop"}, b""),
        }
    )
    assert safe_fetch.fetch_image("http://cdn.example.com/a.png").format == "PNG"
    assert [sent[3] for sent in fake.sent] == ["/a.png", "/b.png"]
    with pytest.raises(FetchRefused, match="重定向次数过多"):
        safe_fetch.fetch_image("http://cdn.example.com/loop")


def test_size_type_and_status_limits(web):
    big = b"\x89PNG" + b"0" * (safe_fetch.MAX_BYTES + 10)
    web(
        {
            "/big-announced": (200, {"content-type": "image/png", "content-length": str(len(big))}, big),
            "/big-silent": (200, {"content-type": "image/png"}, big),
            "/html": (200, {"content-type": "text/html"}, b"<html></html>"),
            "/liar": (200, {"content-type": "image/png"}, b"<svg onload=alert(1)></svg>"),
            "/svg": (200, {"content-type": "image/svg+xml"}, b"<svg></svg>"),
            "/gone": (404, {}, b""),
        }
    )
    for path, message in [
        ("/big-announced", "超过 5MB"),
        ("/big-silent", "超过 5MB"),
        ("/html", "不是图片"),
        ("/liar", "不是有效的图片"),
        ("/svg", "不是有效的图片"),
        ("/gone", "HTTP 404"),
    ]:
        with pytest.raises(FetchRefused, match=message):
            safe_fetch.fetch_image(f"http://cdn.example.com{path}")


def test_a_timeout_is_a_refusal(monkeypatch):
    monkeypatch.setattr(safe_fetch, "resolve", lambda host, port: ["93.184.216.34"])

    def slow(*args):
        raise TimeoutError("timed out")

    monkeypatch.setattr(safe_fetch, "send", slow)
    with pytest.raises(FetchRefused, match="连接超时"):
        safe_fetch.fetch_image("http://cdn.example.com/a.png")
