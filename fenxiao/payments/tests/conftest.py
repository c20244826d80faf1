import pytest

from .wechatpay_fake import FakeWechatPay


@pytest.fixture(scope="session")
def fake():
    """A WeChat Pay stand-in on a local socket (see `wechatpay_fake`), shared by the tests."""
    server = FakeWechatPay().start()
    yield server
    server.stop()


@pytest.fixture
def wechatpay(fake, settings, tmp_path):
    """The mall set up for WeChat Pay against the stand-in, which starts each test empty."""
    fake.trades.clear()
    fake.refunds.clear()
    fake.requests.clear()
    fake.oauth_codes.clear()
    fake.refund_first_status, fake.refund_later_status = "PROCESSING", "SUCCESS"
    fake.refuse_refund, fake.forge_answers = None, False
    settings.WECHATPAY = fake.settings(tmp_path)
    settings.WECHAT_MP = fake.mp_settings()
    settings.PAYMENT_GATEWAYS = ["wechatpay", "sandbox"]
    settings.SITE_URL = "https://shop.example.com"
    return fake


@pytest.fixture(scope="session")
def alipay_fake():
    """An Alipay gateway stand-in on a local socket (see `alipay_fake`)."""
    from .alipay_fake import FakeAlipay

    server = FakeAlipay().start()
    yield server
    server.stop()


@pytest.fixture
def alipay(alipay_fake, settings, tmp_path):
    """The mall set up for Alipay against the stand-in, which starts each test empty."""
    alipay_fake.trades.clear()
    alipay_fake.calls.clear()
    alipay_fake.forge_answers = False
    settings.ALIPAY = alipay_fake.settings(tmp_path)
    settings.PAYMENT_GATEWAYS = ["alipay", "sandbox"]
    settings.SITE_URL = "https://shop.example.com"
    return alipay_fake
