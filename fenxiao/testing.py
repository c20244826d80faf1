"""Factories, an API client and a thread race for tests (and anyone scripting against the mall)."""

import ast
import itertools
import json
import re
import threading
from pathlib import Path

from django.db import connection
from django.test import Client

_seq = itertools.count(1)


def make_buyer(phone: str | None = None, password: str = "Buyer#2026", **extra):
    from fenxiao.customers.models import User

    phone = phone or f"139{next(_seq):08d}"
    user = User(username=phone, phone=phone, **extra)
    user.set_password(password)
    user.save()
    return user


def make_staff(username: str = "staff", perms: list[str] | None = None, superuser=False):
    from django.contrib.auth.models import Permission

    from fenxiao.customers.models import User

    user = User.objects.create_user(
        username=f"{username}{next(_seq)}", password="Staff#2026", is_staff=True, is_superuser=superuser
    )
    for perm in perms or []:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def make_address(user, **fields):
    from fenxiao.customers.models import Address

    data = {
        "recipient": "张三",
        "phone": "13800138000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "detail": "文三路 100 号",
        "is_default": True,
    }
    data.update(fields)
    return Address.objects.create(user=user, **data)


def make_category(name="服装", parent=None):
    from fenxiao.catalog.models import Category

    return Category.objects.create(name=name, parent=parent)


def make_product(
    name=None, *, category=None, price=9900, stock=100, listed=True, specs_list=None, list_price=0
):
    """A product with one SKU per entry in `specs_list` (default: one plain SKU)."""
    from fenxiao.catalog.models import Product, Sku
    from fenxiao.catalog.services.products import refresh_summary

    n = next(_seq)
    product = Product.objects.create(
        name=name or f"商品{n}", category=category or make_category(), is_listed=listed
    )
    for i, specs in enumerate(specs_list or [{}]):
        Sku.objects.create(
            product=product, code=f"SKU{n}-{i}", specs=specs, price=price, list_price=list_price, stock=stock
        )
    refresh_summary([product.pk])
    product.refresh_from_db()
    return product


def pay_in_sandbox(order, *, notify: bool = False):
    """The buyer pays `order` on the sandbox cashier and the mall applies the gateway's
    payment notification directly (no HTTP round trip); returns the sandbox trade."""
    from fenxiao.payments.gateways.sandbox import SandboxGateway, paid_notification
    from fenxiao.payments.services.payments import apply_gateway_payment, start_payment

    trade = SandboxGateway().complete_trade(start_payment(order, "sandbox").out_trade_no, notify=notify)
    apply_gateway_payment("sandbox", paid_notification(trade))
    return trade


class ApiClient:
    """JSON calls to /api/v1 with an optional bearer token."""

    def __init__(self, token: str | None = None):
        self.client = Client()
        self.token = token

    def _headers(self):
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}

    def call(self, method: str, path: str, body=None, **query):
        url = "/api/v1" + path
        kwargs = self._headers()
        if method == "get":
            return getattr(self.client, method)(url, query, **kwargs)
        return getattr(self.client, method)(
            url, json.dumps(body if body is not None else {}), content_type="application/json", **kwargs
        )

    def get(self, path, **query):
        return self.call("get", path, **query)

    def post(self, path, body=None):
        return self.call("post", path, body)

    def put(self, path, body=None):
        return self.call("put", path, body)

    def patch(self, path, body=None):
        return self.call("patch", path, body)

    def delete(self, path):
        return self.call("delete", path)


def assert_refused(reply, status: int, code: str) -> dict:
    """An API refusal: this status, this error code and a Chinese message. Returns the body."""
    assert reply.status_code == status, reply.content
    body = reply.json()
    assert body["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]
    return body


def login(user) -> Client:
    """A test client signed in as `user`, e.g. staff on the backend's pages."""
    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> ApiClient:
    from fenxiao.customers.services.accounts import issue_token

    return ApiClient(issue_token(user))


def module_imports(path: Path) -> set[str]:
    """Every absolute module (and imported name) a source file imports, for layering tests."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_modules(root: Path, *, skip: tuple[str, ...] = ()) -> list[Path]:
    """The package's source files, leaving out any under a folder or module named in `skip`."""
    return [
        path
        for path in sorted(root.rglob("*.py"))
        if not any(part in skip for part in path.relative_to(root).with_suffix("").parts)
    ]


def imports_of_apps(root: Path, apps, *, skip: tuple[str, ...] = ("tests",)) -> dict[str, list[str]]:
    """{file: the `fenxiao.<app>` modules it imports} for the package's files that import any
    of `apps`: what a layering test expects to be empty."""
    found = {}
    for path in package_modules(root, skip=skip):
        names = sorted(
            name for name in module_imports(path) if name.split(".")[:2] in ([["fenxiao", a] for a in apps])
        )
        if names:
            found[str(path.relative_to(root))] = names
    return found


def sms_code_for(phone: str) -> str:
    """Ask for a registration code as a client does, and read it from the sandbox outbox."""
    reply = Client().post(
        "/api/v1/auth/sms-code", {"phone": phone, "purpose": "register"}, content_type="application/json"
    )
    assert reply.status_code == 202, reply.content
    return last_sms_code(phone)


def last_sms_code(phone: str) -> str:
    """The code in the newest text message to `phone` (the sandbox keeps every message)."""
    from fenxiao.customers.models import SmsMessage
    from fenxiao.customers.services.accounts import normalise_phone

    text = SmsMessage.objects.filter(phone=normalise_phone(phone)).latest("id").text
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)


def postgres_only_marks(reason: str = "concurrency tests run on PostgreSQL (DATABASE_URL)") -> list:
    """`pytestmark` for tests that need real PostgreSQL connections, each test in real
    transactions. Decided at collection, so SQLite runs skip them without even setting up
    (and flushing) a database."""
    import pytest
    from django.conf import settings

    return [
        pytest.mark.postgres,
        pytest.mark.skipif(not settings.IS_POSTGRES, reason=reason),
        pytest.mark.django_db(transaction=True),
    ]


def run_together(count: int, work, *, start_timeout: float = 30, join_timeout: float = 120) -> list:
    """Run work(i) in `count` threads released at the same instant, each on its own
    database connection; returns what each returned, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i):
        try:
            barrier.wait(timeout=start_timeout)
            results[i] = work(i)
        except BaseException as exc:  # handed back to the test, which reports it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=join_timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results


class LocalProvider:
    """An outside provider's stand-in (a payment gateway, an SMS or tracking service) on a
    socket of this machine, so an adapter's real HTTP calls are exercised in tests.
    Subclasses answer each request in `answer`; `start()` serves, `stop()` ends."""

    def answer(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for one request."""
        raise NotImplementedError

    def start(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, raw = provider.answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def in_english(client: Client) -> Client:
    """The client has picked English, as `/i18n/setlang/` records it."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# CJK punctuation and ideographs; the ideographic space (U+3000) is a space in any page.
_CJK = re.compile(r"[\u3001-\u303f\u3400-\u9fff\uff01-\uff5e]+")
_NOT_SHOWN = re.compile(r"<(script|style|template)\b.*?</\1>|<!--.*?-->", re.S | re.I)
_SHOWN_ATTRIBUTES = re.compile(r"\b(?:placeholder|title|alt|aria-label|value|content)=\"([^\"]*)\"", re.I)


def chinese_left(html: str, *data: str) -> list[str]:
    """The Chinese a page shows outside the given data (product names, addresses …): its
    text and the attributes a reader sees or hears, language names aside. An English page
    returns []."""
    from django.conf import settings

    html = _NOT_SHOWN.sub(" ", html)
    data = (*data, *(name for _code, name in settings.LANGUAGES))
    for text in sorted(data, key=len, reverse=True):
        html = html.replace(text, " ")
    attributes = " ".join(_SHOWN_ATTRIBUTES.findall(html))
    text = re.sub(r"<[^>]*>", " ", html)
    return _CJK.findall(text + " " + attributes)


def backend_content(html: str) -> str:
    """A backend page's own content: what follows the sidebar and the header, whose menu
    names every app."""
    return html[html.index('id="content"') :]


def english_backend_page(client: Client, url: str, *data: str) -> str:
    """A backend page read in English: it answers 200 and its own content shows no Chinese
    outside `data`."""
    reply = in_english(client).get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    body = reply.content.decode()
    assert chinese_left(backend_content(body), *data) == [], url
    return body
