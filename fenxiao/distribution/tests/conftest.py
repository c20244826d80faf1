"""Fixtures shared by the distribution tests."""

import pytest

from fenxiao.testing import make_product

from .backend import boss, staff, world  # noqa: F401 - fixtures of the backend tests
from .helpers import make_distributor


@pytest.fixture
def chain():
    """Two distributors: `a` and `b`, whose parent is `a`."""
    a = make_distributor()
    b = make_distributor(parent=a)
    return a, b


@pytest.fixture
def lamp():
    return make_product("台灯", price=10000)


@pytest.fixture(scope="session")
def wechatpay_server():
    """A WeChat Pay stand-in on a local socket (see `payments/tests/wechatpay_fake`)."""
    from fenxiao.payments.tests.wechatpay_fake import FakeWechatPay

    server = FakeWechatPay().start()
    yield server
    server.stop()


@pytest.fixture
def fake(wechatpay_server, settings, tmp_path):
    """The mall set up for WeChat Pay against the stand-in, which starts each test empty."""
    wechatpay_server.reset_transfers()
    wechatpay_server.requests.clear()
    wechatpay_server.oauth_codes.clear()
    wechatpay_server.forge_answers = False
    settings.WECHATPAY = wechatpay_server.settings(tmp_path)
    settings.WECHAT_MP = wechatpay_server.mp_settings()
    settings.SITE_URL = "https://shop.example.com"
    return wechatpay_server
