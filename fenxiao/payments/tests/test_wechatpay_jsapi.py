"""WeChat Pay inside WeChat's browser (JSAPI): the buyer's openid learnt silently through
网页授权, the trade opened for it, and WeChat's payment sheet opened with parameters
signed by the merchant key."""

import base64
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.test import Client

from fenxiao.customers.models import WechatIdentity
from fenxiao.orders.models import Order
from fenxiao.payments.models import Payment, PaymentStatus
from fenxiao.testing import api_for, assert_refused, make_address, make_buyer, make_product

from . import wechatpay_fake

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wechatpay")]

IN_WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"
)
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture(autouse=True)
def both_wechat_gateways(wechatpay, settings):
    settings.PAYMENT_GATEWAYS = ["wechatpay", "wechatpay_jsapi"]


def signed_in_buyer_with_order(price=2590):
    buyer = make_buyer()
    sku = make_product(price=price).skus.get()
    placed = api_for(buyer).post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": make_address(buyer).pk}
    )
    assert placed.status_code == 201, placed.content
    web = Client(HTTP_USER_AGENT=IN_WECHAT)
    web.force_login(buyer)
    return buyer, web, placed.json()["number"]


def wechat_authorises(fake, web, authorize_url: str, openid: str = OPENID):
    """What WeChat does with the authorise address: back to the mall with a code."""
    url = urlsplit(authorize_url)
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("https", "open.weixin.qq.com", "/connect/oauth2/authorize")
    assert url.fragment == "wechat_redirect"
    assert query["appid"] == [wechatpay_fake.APPID] and query["scope"] == ["snsapi_base"]
    assert query["redirect_uri"] == ["https://shop.example.com/wechat/auth/return/"]
    fake.oauth_codes["CODE-" + openid] = openid
    return web.get("/wechat/auth/return/", {"code": "CODE-" + openid, "state": query["state"][0]})


def test_in_wechat_the_buyer_pays_in_wechats_own_payment_sheet(fake):
    buyer, web, number = signed_in_buyer_with_order()
    pay_page = f"/orders/{number}/pay/"

    # No openid yet: the pay page first learns it, silently.
    first = web.get(pay_page)
    assert first.status_code == 302
    back = wechat_authorises(fake, web, first["Location"])
    assert back.status_code == 302 and back["Location"] == pay_page
    assert WechatIdentity.objects.get(user=buyer).openid == OPENID

    page = web.get(pay_page).content.decode()
    # Inside WeChat its in-app payment replaces scanning a code.
    assert 'value="wechatpay_jsapi" checked' in page and 'value="wechatpay"' not in page

    chosen = web.post(pay_page, {"gateway": "wechatpay_jsapi"})
    payment = Payment.objects.get(order__number=number)
    assert chosen["Location"] == f"/pay/{payment.out_trade_no}"
    trade = fake.trades[payment.out_trade_no]
    assert trade.openid == OPENID and trade.amount == 2590
    assert payment.payer_id == OPENID and payment.pay_code == trade.code_url

    sheet = web.get(chosen["Location"]).content.decode()
    params = json.loads(
        re.search(r'<script id="wxpay-params" type="application/json">(.*?)</script>', sheet)[1]
    )
    assert params["appId"] == wechatpay_fake.APPID and params["package"] == f"prepay_id={trade.code_url}"
    assert params["signType"] == "RSA"
    # WeChat checks paySign with the merchant's public key: it must hold.
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    fake.merchant_key.public_key().verify(
        base64.b64decode(params["paySign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )

    fake.pay(payment.out_trade_no)
    body, headers = fake.notification(payment.out_trade_no)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    answer = Client().post(
        "/api/v1/payments/notify/wechatpay_jsapi", body, content_type="application/json", **extra
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == "accepted"
    assert Order.objects.get(number=number).status == Order.Status.PENDING_SHIPMENT
    assert web.get(chosen["Location"])["Location"] == f"/orders/{number}/result/"


def test_outside_wechat_the_buyer_scans_a_code_and_is_not_sent_to_wechat():
    buyer, _, number = signed_in_buyer_with_order()
    web = Client(HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0")
    web.force_login(buyer)
    page = web.get(f"/orders/{number}/pay/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="wechatpay" checked' in html and "wechatpay_jsapi" not in html


def test_a_failed_authorisation_says_so_and_does_not_send_the_buyer_round_again(fake):
    _, web, number = signed_in_buyer_with_order()
    first = web.get(f"/orders/{number}/pay/")
    state = parse_qs(urlsplit(first["Location"]).query)["state"][0]

    back = web.get("/wechat/auth/return/", {"code": "NOT-A-CODE", "state": state}, follow=True)

    assert "微信授权失败" in back.content.decode()
    assert back.redirect_chain[-1][0] == f"/orders/{number}/pay/"
    assert not WechatIdentity.objects.exists()
    # A forged return (no pending state) is refused the same way.
    assert (
        "微信授权失败"
        in web.get("/wechat/auth/return/", {"code": "X", "state": "Y"}, follow=True).content.decode()
    )


def test_the_wechat_user_who_signs_in_last_gets_the_accounts_messages(fake):
    other, _, _ = signed_in_buyer_with_order()
    WechatIdentity.objects.create(user=other, appid=wechatpay_fake.APPID, openid=OPENID)
    buyer, web, number = signed_in_buyer_with_order()
    WechatIdentity.objects.create(user=buyer, appid=wechatpay_fake.APPID, openid="o-an-older-phone")

    wechat_authorises(fake, web, web.get(f"/orders/{number}/pay/")["Location"])
    chosen = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_jsapi"})

    assert chosen.status_code == 302 and chosen["Location"].startswith("/pay/")
    assert Payment.objects.get(order__number=number).payer_id == OPENID
    # One WeChat user, one account's messages; the account's older openid is replaced.
    assert list(WechatIdentity.objects.values_list("user_id", "openid")) == [(buyer.pk, OPENID)]


def test_a_new_session_learns_the_openid_again_rather_than_trust_the_accounts(fake):
    buyer, web, number = signed_in_buyer_with_order()
    WechatIdentity.objects.create(user=buyer, appid=wechatpay_fake.APPID, openid="o-another-phone")

    # The account's openid may be another phone's WeChat user: this one is asked for its own.
    first = web.get(f"/orders/{number}/pay/")
    assert first.status_code == 302 and first["Location"].startswith("https://open.weixin.qq.com/")
    wechat_authorises(fake, web, first["Location"])
    web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_jsapi"})
    assert Payment.objects.get(order__number=number).payer_id == OPENID


def test_a_garbled_return_from_wechat_is_a_refusal_not_an_error():
    _, web, number = signed_in_buyer_with_order()
    web.get(f"/orders/{number}/pay/")
    back = web.get("/wechat/auth/return/", {"code": "x", "state": "é"}, follow=True)
    assert back.status_code == 200 and "微信授权失败" in back.content.decode()


def test_the_api_opens_an_in_app_payment_for_the_openid_it_is_given(fake):
    buyer, _, number = signed_in_buyer_with_order()
    client = api_for(buyer)

    assert_refused(
        client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_jsapi"}), 409, "PAYER_ID_REQUIRED"
    )

    first = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_jsapi", "openid": OPENID}).json()
    assert first["pay_code"] == fake.trades[first["out_trade_no"]].code_url
    assert (
        client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_jsapi", "openid": OPENID}).json() == first
    )

    # Another WeChat user pays instead: the first trade is closed there, a new one opened.
    second = client.post(
        f"/orders/{number}/pay", {"gateway": "wechatpay_jsapi", "openid": "o-another-user"}
    ).json()
    assert second["out_trade_no"] != first["out_trade_no"]
    assert fake.trades[first["out_trade_no"]].state == "CLOSED"
    assert Payment.objects.get(out_trade_no=first["out_trade_no"]).status == PaymentStatus.CLOSED
    assert fake.trades[second["out_trade_no"]].openid == "o-another-user"


def test_the_system_check_wants_the_app_secret(settings):
    from django.core.checks import run_checks

    assert [m for m in run_checks() if m.id.startswith("fenxiao.E")] == []
    settings.WECHAT_MP = {**settings.WECHAT_MP, "SECRET": ""}
    assert ["WECHAT_MP_SECRET" in m.msg for m in run_checks() if m.id == "fenxiao.E010"] == [True]
