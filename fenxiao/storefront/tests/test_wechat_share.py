"""The share card in WeChat's browser: a page with one carries the JS-SDK signature of its
own address (from a jsapi_ticket fetched from the 公众号's API, here a local stand-in) and
the card, whose link is the distributor's referral link when a distributor shares."""

import hashlib
import io
import json
import re
import socket
import threading
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from fenxiao.catalog.models import ProductImage
from fenxiao.customers.services import wechat_mp
from fenxiao.distribution.services import sharing
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.payments.tests.wechatpay_fake import APPID, FakeWechatPay
from fenxiao.promotions.models import GroupBuy
from fenxiao.promotions.tests.factories import make_coupon, make_group
from fenxiao.promotions.tests.test_groups import buy_in_group
from fenxiao.testing import make_buyer, make_product, pay_in_sandbox

pytestmark = pytest.mark.django_db

HOST = "shop.example.com"
SITE = f"https://{HOST}"
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.50.2701 NetType/WIFI"
)


@pytest.fixture(scope="module")
def wechat():
    server = FakeWechatPay().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def mp(settings, wechat, tmp_path):
    wechat.tokens.clear()
    wechat.tickets.clear()
    wechat.requests.clear()
    cache.clear()
    settings.WECHATPAY = wechat.settings(Path(tmp_path))
    settings.WECHAT_MP = {
        **wechat.mp_settings(),
        "JSSDK_URL": "https://res.wx.qq.com/open/js/jweixin-1.6.0.js",
    }
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    settings.MEDIA_ROOT = tmp_path / "media"
    return wechat


@pytest.fixture
def product():
    product = make_product("云南普洱 357g", price=9900, list_price=12800)
    product.subtitle = "2019 年春茶"
    product.save(update_fields=["subtitle"])
    buffer = io.BytesIO()
    Image.new("RGB", (60, 60), "#884422").save(buffer, "JPEG")
    ProductImage.objects.create(
        product=product, image=SimpleUploadedFile("tea.jpg", buffer.getvalue(), content_type="image/jpeg")
    )
    return product


class Https(Client):
    def request(self, **request):
        return super().request(**{**request, "wsgi.url_scheme": "https"})


def in_wechat(user=None) -> Client:
    """WeChat's browser on the site's own address (https, SITE_URL's host)."""
    client = Https(HTTP_USER_AGENT=WECHAT_UA, HTTP_HOST=HOST)
    if user is not None:
        client.force_login(user)
    return client


def share_of(reply) -> dict | None:
    assert reply.status_code == 200
    found = re.search(r'<script id="wx-share" type="application/json">(.*?)</script>', reply.content.decode())
    return json.loads(found[1]) if found else None


def signed_for(config: dict, ticket: str, url: str) -> bool:
    plain = f"jsapi_ticket={ticket}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}&url={url}"
    return config["signature"] == hashlib.sha1(plain.encode()).hexdigest()  # noqa: S324


def test_the_signature_is_wechats_own_example():
    # The example in WeChat's JS-SDK documentation (附录1).
    assert (
        wechat_mp.jssdk_signature(
            ticket="sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            nonce="Wm3WZYTPz0wzccnW",
            timestamp=1414587457,
            url="http://mp.weixin.qq.com?params=value#top",
        )
        == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
    )


def test_a_distributors_product_page_signs_its_address_and_shares_their_referral_link(product, mp):
    distributor = make_distributor(user=make_buyer(nickname="茶小铺"))
    path = f"/products/{product.pk}/?from=singlemessage&isappinstalled=0"
    reply = in_wechat(distributor.user).get(path)
    share = share_of(reply)
    assert share["config"]["appId"] == APPID
    assert len(mp.tickets) == 1 and signed_for(share["config"], mp.tickets[0], SITE + path)
    card = share["card"]
    assert card["link"] == f"{SITE}/r/{distributor.referral_code}?to=%2Fproducts%2F{product.pk}%2F"
    assert card["title"] == "云南普洱 357g"
    assert card["desc"] == "茶小铺 推荐：仅需 ¥99.00（原价 ¥128.00），2019 年春茶"
    assert card["timelineTitle"] == "云南普洱 357g｜仅需 ¥99.00"
    image = product.images.get()
    assert card["imgUrl"] == SITE + image.image.url and card["imgUrl"].startswith(SITE + "/")
    # The page's script loads the JS-SDK (so a slow download holds nothing up).
    assert share["sdk"] == "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
    assert '<script src="https://res.wx.qq.com' not in reply.content.decode()


def test_a_buyers_card_opens_the_page_itself_and_no_page_outside_wechat_has_one(product):
    buyer = make_buyer()
    card = share_of(in_wechat(buyer).get(f"/products/{product.pk}/"))["card"]
    assert card["link"] == f"{SITE}/products/{product.pk}/"
    assert card["desc"] == "仅需 ¥99.00（原价 ¥128.00），2019 年春茶"
    assert share_of(in_wechat().get(f"/products/{product.pk}/"))["card"]["link"] == card["link"]
    plain = Client()
    plain.force_login(buyer)
    html = plain.get(f"/products/{product.pk}/").content.decode()
    assert "wx-share" not in html and "jweixin" not in html


def test_the_ticket_is_fetched_once_for_every_page_and_node(product, mp):
    distributor = make_distributor()
    for url in ("/", f"/products/{product.pk}/", "/d/share/", f"/d/share/?product={product.pk}"):
        share = share_of(in_wechat(distributor.user).get(url))
        assert signed_for(share["config"], mp.tickets[0], SITE + url), url
    asked = [target for _method, target, _body in mp.requests]
    assert sum("/cgi-bin/stable_token" in t for t in asked) == 1
    assert sum("/cgi-bin/ticket/getticket" in t for t in asked) == 1


def test_share_pages_send_the_card_of_what_is_shared(product):
    distributor = make_distributor(user=make_buyer(nickname="茶小铺"))
    client = in_wechat(distributor.user)
    referral = f"{SITE}/r/{distributor.referral_code}?to="
    card = share_of(client.get(f"/d/share/?product={product.pk}"))["card"]
    assert card["link"] == f"{referral}%2Fproducts%2F{product.pk}%2F" and card["title"] == product.name
    home = share_of(client.get("/d/share/"))["card"]
    assert home["link"] == f"{referral}%2F" and home["desc"].startswith("茶小铺 邀请你逛逛")
    assert share_of(client.get("/"))["card"] == home
    # A card reaches strangers: a distributor without a nickname is not named by their phone.
    nameless = make_distributor()
    card = share_of(in_wechat(nameless.user).get(f"/products/{product.pk}/"))["card"]
    assert card["desc"].startswith("仅需") and nameless.referral_code in card["link"]
    # A buyer's home page card is the shop itself.
    assert share_of(in_wechat(make_buyer()).get("/"))["card"]["link"] == f"{SITE}/"


def test_a_shared_coupons_card_opens_it_through_the_distributors_link():
    coupon = make_coupon(amount=2000, min_spend=10000, name="满100减20")
    distributor = make_distributor(user=make_buyer(nickname="茶小铺"))
    for url in (f"/coupons/{coupon.pk}/", f"/d/share/?coupon={coupon.pk}"):
        card = share_of(in_wechat(distributor.user).get(url))["card"]
        assert (
            card["link"] == f"{SITE}/r/{distributor.referral_code}?to=%2Fcoupons%2F{coupon.pk}%2F&src=coupon"
        )
        assert card["title"] == "送你一张优惠券：满¥100.00减¥20.00"
        assert card["desc"] == "茶小铺 送你的【满100减20】全店通用，先领券再下单更划算"
    assert (
        share_of(in_wechat().get(f"/coupons/{coupon.pk}/"))["card"]["link"] == f"{SITE}/coupons/{coupon.pk}/"
    )


def test_a_group_page_card_asks_friends_to_join(product):
    promotion = make_group(product, price=5900, size=3, name="三人团")
    pay_in_sandbox(buy_in_group(make_buyer(), product, promotion=promotion))
    group = GroupBuy.objects.get()
    card = share_of(in_wechat().get(f"/groups/{group.pk}/"))["card"]
    assert card["title"] == "还差2人成团｜¥59.00 拼云南普洱 357g"
    assert card["link"] == f"{SITE}/groups/{group.pk}/" and card["imgUrl"].startswith(SITE + "/")


def test_a_stale_token_is_dropped_and_the_next_page_fetches_a_fresh_one(product, mp):
    cache.set(f"wechat-mp-token:{APPID}", "TOKEN-revoked-by-another-node", 3600)
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None
    assert cache.get(f"wechat-mp-token:{APPID}") is None
    share = share_of(in_wechat().get(f"/products/{product.pk}/"))
    assert signed_for(share["config"], mp.tickets[0], f"{SITE}/products/{product.pk}/")
    assert cache.get(f"wechat-mp-token:{APPID}") in mp.tokens


def test_one_page_fetches_a_missing_ticket_while_the_others_go_without(product, mp):
    cache.add(f"wechat-mp-jsapi-ticket:{APPID}:fetching", True, 10)  # another page is at it
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None
    assert mp.requests == []
    cache.delete(f"wechat-mp-jsapi-ticket:{APPID}:fetching")
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is not None
    assert cache.get(f"wechat-mp-jsapi-ticket:{APPID}:fetching") is None


def test_a_garbled_answer_or_a_broken_card_never_breaks_the_page(product, settings, monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer_half():
            connection, _address = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{"access')

        threading.Thread(target=answer_half, daemon=True).start()
        settings.WECHAT_MP = {
            **settings.WECHAT_MP,
            "API_BASE": f"http://127.0.0.1:{listener.getsockname()[1]}",
        }
        assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None
    cache.clear()
    settings.WECHAT_MP = {**settings.WECHAT_MP, "API_BASE": "http://127.0.0.1:9"}

    def broken(*args, **kwargs):
        raise RuntimeError("card")

    monkeypatch.setattr(wechat_mp, "jssdk_config", lambda url: {"appId": APPID})
    monkeypatch.setattr(sharing, "product_card", broken)
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None


def test_a_page_opened_by_another_address_than_the_sites_has_no_card(product, settings, mp):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "m.example.com"]
    other = Https(HTTP_USER_AGENT=WECHAT_UA, HTTP_HOST="m.example.com")
    assert share_of(other.get(f"/products/{product.pk}/")) is None
    plain_http = Client(HTTP_USER_AGENT=WECHAT_UA, HTTP_HOST=HOST)
    assert share_of(plain_http.get(f"/products/{product.pk}/")) is None
    assert mp.requests == []


def test_the_query_is_signed_exactly_as_the_browser_sent_it(product, mp):
    raw = "from=timeline&a=x|y&b={1}&c=%E4%B8%AD"
    share = share_of(in_wechat().get(f"/products/{product.pk}/", QUERY_STRING=raw))
    assert signed_for(share["config"], mp.tickets[0], f"{SITE}/products/{product.pk}/?{raw}")


def test_without_wechat_the_page_goes_without_a_card_and_stops_asking_for_a_minute(product, settings, mp):
    settings.WECHAT_MP = {**settings.WECHAT_MP, "API_BASE": "http://127.0.0.1:9"}  # nothing listens
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None
    settings.WECHAT_MP = {**settings.WECHAT_MP, "API_BASE": mp.base}
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None
    assert mp.requests == []
    cache.delete(f"wechat-mp-jsapi-ticket:{APPID}:failed")
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is not None


def test_a_refused_ticket_leaves_the_page_without_a_card(product, settings, mp):
    settings.WECHAT_MP = {**settings.WECHAT_MP, "SECRET": "not-the-secret"}
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None
    settings.WECHAT_MP = {**settings.WECHAT_MP, "SECRET": ""}  # no 公众号 configured: nothing asked
    cache.clear()
    mp.requests.clear()
    assert share_of(in_wechat().get(f"/products/{product.pk}/")) is None
    assert mp.requests == []


def test_a_product_page_in_wechat_costs_one_cache_read_for_its_card(product, django_assert_max_num_queries):
    buyer = make_buyer()
    client = in_wechat(buyer)
    outside = Client()
    outside.force_login(buyer)
    outside.get(f"/products/{product.pk}/")
    client.get(f"/products/{product.pk}/")  # warm the ticket and the session
    with CaptureQueriesContext(connection) as plain:
        outside.get(f"/products/{product.pk}/")
    # One read of the shared cache for the ticket (a table here, Redis in production).
    with django_assert_max_num_queries(len(plain) + 1):
        assert share_of(client.get(f"/products/{product.pk}/")) is not None
