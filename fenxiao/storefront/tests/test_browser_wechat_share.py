"""The share card in a real browser with WeChat's user agent: WeChat's JS-SDK (stood in for
by a script recording what the page asks of it) is configured with the signature of the
address the browser is on at that moment, then given the distributor's card; only then
does the address bar take the distributor's code."""

import io
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from PIL import Image

from fenxiao.catalog.models import ProductImage
from fenxiao.customers.services import wechat_mp
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.payments.tests.wechatpay_fake import APPID, FakeWechatPay
from fenxiao.testing import make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

JSSDK = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
# What jweixin does for the calls the mall makes, recording each: `wx.config` checks the
# signature against the page's address (recorded), then `ready` callbacks run.
STAND_IN = """
window.wxCalls = [];
window.wx = {
  config: function (options) {
    window.wxCalls.push(["config", options, location.href.split("#")[0]]);
  },
  ready: function (callback) { setTimeout(callback, 50); },
  error: function () {},
  updateAppMessageShareData: function (card) { window.wxCalls.push(["friend", card]); },
  updateTimelineShareData: function (card) { window.wxCalls.push(["timeline", card]); }
};
"""


@pytest.fixture
def wechat(settings, tmp_path, live_server):
    """The mall served with its 公众号 on a WeChat stand-in."""
    server = FakeWechatPay().start()
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = live_server.url
    settings.WECHATPAY = server.settings(Path(tmp_path))
    settings.WECHAT_MP = {**server.mp_settings(), "JSSDK_URL": JSSDK}
    cache.clear()
    yield server
    server.stop()


def sign_in_to(page, user, path: str) -> None:
    page.goto(f"/login/?next={path}")
    page.get_by_label("手机号").fill(user.phone)
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()


def test_a_distributor_shares_a_product_card_from_wechats_menu(phones, live_server, wechat):
    product = make_product("高山乌龙茶", price=8800, list_price=12800)
    buffer = io.BytesIO()
    Image.new("RGB", (600, 600), "#2f855a").save(buffer, format="JPEG")
    ProductImage(product=product).image.save("tea.jpg", ContentFile(buffer.getvalue()), save=True)
    distributor = make_distributor()

    phone = phones("wechat-share")
    page = phone.page
    page.route(JSSDK, lambda route: route.fulfill(body=STAND_IN, content_type="application/javascript"))
    path = f"/products/{product.pk}/"
    sign_in_to(page, distributor.user, path)
    page.wait_for_function("window.wxCalls && window.wxCalls.length === 3")
    (_, options, address), (_, friend), (_, timeline) = page.evaluate("window.wxCalls")
    # Signed for the address the browser was on when it configured the JS-SDK.
    assert address == live_server.url + path
    assert options["signature"] == wechat_mp.jssdk_signature(
        ticket=wechat.tickets[-1], nonce=options["nonceStr"], timestamp=options["timestamp"], url=address
    )
    assert options["appId"] == APPID
    assert set(options["jsApiList"]) == {"updateAppMessageShareData", "updateTimelineShareData"}
    link = f"{live_server.url}/r/{distributor.referral_code}?to=%2Fproducts%2F{product.pk}%2F"
    assert friend["link"] == link and friend["title"] == "高山乌龙茶" and "¥88.00" in friend["desc"]
    assert friend["imgUrl"].startswith(live_server.url + "/media/")
    assert timeline == {"title": "高山乌龙茶｜仅需 ¥88.00", "link": link, "imgUrl": friend["imgUrl"]}
    # Then the address bar carries the code, for 复制链接 and for browsers without the SDK.
    page.wait_for_url(f"**{path}?ref={distributor.referral_code}")
    phone.shot("product")


# jweixin refusing the signature (wx.error), never answering (no WeChat bridge), or not
# loading at all: the page works, and the address bar still takes the distributor's code.
REFUSES = "window.wx = {config: function () {}, ready: function () {}, error: function (f) { f({}); }};"
SILENT = "window.wx = {config: function () {}, ready: function () {}, error: function () {}};"


@pytest.mark.parametrize("sdk", ["refuses", "silent", "blocked"])
def test_the_page_works_and_is_marked_for_sharing_whatever_the_sdk_does(sdk, phones, wechat):
    product = make_product("高山乌龙茶", price=8800, specs_list=[{"规格": "100g"}, {"规格": "250g"}])
    distributor = make_distributor()
    phone = phones(f"wechat-share-{sdk}")
    page = phone.page
    if sdk == "blocked":
        page.route(JSSDK, lambda route: route.abort())
    else:
        body = REFUSES if sdk == "refuses" else SILENT
        page.route(JSSDK, lambda route: route.fulfill(body=body, content_type="application/javascript"))
    path = f"/products/{product.pk}/"
    sign_in_to(page, distributor.user, path)
    page.wait_for_url(f"**{path}?ref={distributor.referral_code}", timeout=8000)
    assert page.locator("#wx-share").count() == 1  # the page did go through the JS-SDK
    # The page's own script ran: the SKU picker answers.
    page.get_by_text("250g").click()
    assert page.locator("[name=sku]").input_value() == str(product.skus.get(specs={"规格": "250g"}).pk)
    if sdk == "blocked":  # the blocked download is the console error this case is about
        phone.errors[:] = [e for e in phone.errors if "Failed to load resource" not in e]
