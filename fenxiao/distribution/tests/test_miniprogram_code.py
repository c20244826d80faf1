"""小程序码: a distributor's referral drawn by WeChat as the merchant's mini-program code,
for the shop or a listed product, kept in the shared cache, refused in Chinese with a code
when the mall has no mini-program or WeChat will not draw it. Against the local WeChat
stand-in (`payments.tests.wechatpay_fake`)."""

import json

import pytest
from django.core.cache import cache

from fenxiao.catalog.models import Product
from fenxiao.customers.services import accounts
from fenxiao.payments.tests.wechatpay_fake import FakeWechatPay
from fenxiao.testing import ApiClient, assert_refused, make_buyer, make_product

from .helpers import make_distributor

pytestmark = pytest.mark.django_db

URL = "/distribution/share/miniprogram-code"


@pytest.fixture(scope="module")
def wechat():
    server = FakeWechatPay().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def miniprogram(wechat, settings):
    wechat.reset_miniprogram()
    cache.clear()
    settings.WECHAT_MINIPROGRAM = wechat.miniprogram_settings()
    return wechat


def api_for(distributor) -> ApiClient:
    return ApiClient(accounts.issue_token(distributor.user))


def drawn_request(reply) -> dict:
    """What WeChat was asked to draw, read back from the stand-in's image."""
    assert reply.status_code == 200, reply.content[:300]
    assert reply["Content-Type"] == "image/jpeg"
    body = reply.content
    assert body.startswith(b"\xff\xd8") and body.endswith(b"\xff\xd9")
    return json.loads(body[4:-2])


def test_a_product_code_carries_the_referral_and_the_product_and_is_drawn_once(wechat):
    distributor = make_distributor()
    product = make_product()
    api = api_for(distributor)

    asked = drawn_request(api.get(f"{URL}?product_id={product.pk}"))
    assert asked["scene"] == f"r={distributor.referral_code}&p={product.pk}"
    assert (asked["page"], asked["env_version"], asked["check_path"]) == (
        "pages/index/index",
        "release",
        False,
    )
    # The same code again comes from the cache: WeChat is asked once.
    assert drawn_request(api.get(f"{URL}?product_id={product.pk}")) == asked
    assert len(wechat.codes_drawn) == 1

    shop = drawn_request(api.get(URL))
    assert shop["scene"] == f"r={distributor.referral_code}"
    assert len(wechat.codes_drawn) == 2


def test_the_page_and_version_follow_the_settings(wechat, settings):
    wechat.published_pages = {"pages/share/index"}
    settings.WECHAT_MINIPROGRAM = {
        **wechat.miniprogram_settings(),
        "SHARE_PAGE": "pages/share/index",
        "ENV_VERSION": "trial",
    }
    asked = drawn_request(api_for(make_distributor()).get(URL))
    assert (asked["page"], asked["env_version"]) == ("pages/share/index", "trial")


def test_a_stale_token_is_replaced_once(wechat):
    distributor = make_distributor()
    api = api_for(distributor)
    drawn_request(api.get(URL))
    wechat.mini_tokens.clear()  # another node's stable_token call replaced it
    drawn_request(api.get(f"{URL}?product_id={make_product().pk}"))
    assert len(wechat.codes_drawn) == 2


def test_refusals_are_chinese_with_a_code_and_never_a_500(wechat, settings):
    distributor = make_distributor()
    api = api_for(distributor)
    hidden = make_product()
    Product.objects.filter(pk=hidden.pk).update(is_listed=False)
    assert_refused(api.get(f"{URL}?product_id={hidden.pk}"), 404, "PRODUCT_NOT_FOUND")
    assert_refused(api.get(f"{URL}?product_id=1000000000000"), 404, "PRODUCT_NOT_FOUND")
    assert_refused(api.get(f"{URL}?product_id=abc"), 422, "INVALID_INPUT")
    assert_refused(api.get(f"{URL}?product_id=0"), 422, "INVALID_INPUT")

    # The page is not in the published mini-program: the merchant's to fix, logged; the
    # distributor is asked to try later.
    wechat.published_pages = set()
    assert_refused(api.get(URL), 503, "MINIPROGRAM_CODE_UNAVAILABLE")
    settings.WECHAT_MINIPROGRAM = {**wechat.miniprogram_settings(), "API_BASE": "http://127.0.0.1:9"}
    assert_refused(api.get(URL), 503, "MINIPROGRAM_CODE_UNAVAILABLE")
    settings.WECHAT_MINIPROGRAM = {"APPID": "", "SECRET": ""}
    assert_refused(api.get(URL), 400, "WECHAT_MINIPROGRAM_NOT_CONFIGURED")


def test_only_an_active_distributor_gets_one():
    buyer = make_buyer()
    assert_refused(ApiClient(accounts.issue_token(buyer)).get(URL), 403, "NOT_A_DISTRIBUTOR")
    assert ApiClient().get(URL).status_code == 401


def test_the_share_page_offers_the_code_only_when_the_shop_has_a_mini_program(wechat, settings):
    from django.test import Client

    distributor = make_distributor()
    product = make_product()
    browser = Client()
    browser.force_login(distributor.user)

    page = browser.get(f"/d/share/?product={product.pk}").content.decode()
    assert "小程序码" in page and f"/d/share/miniprogram-code.jpg?product={product.pk}" in page
    image = browser.get(f"/d/share/miniprogram-code.jpg?product={product.pk}")
    assert image["Content-Type"] == "image/jpeg"
    assert json.loads(image.content[4:-2])["scene"] == f"r={distributor.referral_code}&p={product.pk}"

    wechat.published_pages = set()
    cache.clear()
    refused = browser.get("/d/share/miniprogram-code.jpg")
    assert refused.status_code == 503 and "暂时无法生成小程序码" in refused.content.decode()

    settings.WECHAT_MINIPROGRAM = {"APPID": "", "SECRET": ""}
    assert 'data-testid="miniprogram-code"' not in browser.get("/d/share/").content.decode()
    assert Client().get("/d/share/miniprogram-code.jpg").status_code == 302  # sign in first
