"""WeChat Pay in the merchant's mini-program: the trade opened under the mini-program's
AppID for the openid bound to the paying account when it signed in there, and the
`wx.requestPayment` parameters in the API's answer, signed with the merchant key."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.test import Client

from fenxiao.customers.models import WechatIdentity
from fenxiao.customers.services import wechat_oauth
from fenxiao.orders.models import Order
from fenxiao.payments.gateways import gateway_choices
from fenxiao.payments.models import Payment
from fenxiao.testing import api_for, assert_refused, make_address, make_buyer, make_product

from . import wechatpay_fake
from .wechat_miniprogram_fake import MINI_APPID

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wechatpay")]

MINI_OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
IN_WECHAT = "Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.50"


@pytest.fixture(autouse=True)
def miniprogram_gateway(wechatpay, settings):
    wechatpay.reset_miniprogram()
    settings.WECHAT_MINIPROGRAM = wechatpay.miniprogram_settings()
    settings.PAYMENT_GATEWAYS = ["wechatpay", "wechatpay_jsapi", "wechatpay_miniprogram"]


def buyer_with_order(*, bound=True, price=2590):
    buyer = make_buyer()
    if bound:
        WechatIdentity.objects.create(user=buyer, appid=MINI_APPID, openid=MINI_OPENID)
    sku = make_product(price=price).skus.get()
    api = api_for(buyer)
    placed = api.post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": make_address(buyer).pk}
    )
    assert placed.status_code == 201, placed.content
    return buyer, api, placed.json()["number"]


def test_the_mini_program_pays_with_the_bound_openid_and_the_notification_marks_it_paid(fake):
    buyer, api, number = buyer_with_order()
    # An openid in the request is not the payer: the account's bound one is.
    reply = api.post(f"/orders/{number}/pay", {"gateway": "wechatpay_miniprogram", "openid": "someone-else"})
    assert reply.status_code == 200, reply.content
    body = reply.json()
    payment = Payment.objects.get(order__number=number)
    trade = fake.trades[payment.out_trade_no]
    assert (trade.appid, trade.openid, trade.amount) == (MINI_APPID, MINI_OPENID, 2590)
    sent = [r for r in fake.requests if r[1] == "/v3/pay/transactions/jsapi"]
    assert f'"appid":"{MINI_APPID}"' in sent[-1][2] and f'"mchid":"{wechatpay_fake.MCHID}"' in sent[-1][2]
    assert "/api/v1/payments/notify/wechatpay_miniprogram" in sent[-1][2]
    assert payment.payer_id == MINI_OPENID and body["pay_url"] == ""

    params = body["pay_params"]
    assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"] == f"prepay_id={trade.code_url}" and params["signType"] == "RSA"
    # WeChat checks paySign over the mini-program's AppID with the merchant's public key.
    message = f"{MINI_APPID}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    fake.merchant_key.public_key().verify(
        base64.b64decode(params["paySign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )

    # Asking again reuses the trade, with freshly signed parameters.
    again = api.post(f"/orders/{number}/pay", {"gateway": "wechatpay_miniprogram"}).json()
    assert (
        again["out_trade_no"] == body["out_trade_no"] and again["pay_params"]["package"] == params["package"]
    )

    fake.pay(payment.out_trade_no)
    notice, headers = fake.notification(payment.out_trade_no)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    answer = Client().post(
        "/api/v1/payments/notify/wechatpay_miniprogram", notice, content_type="application/json", **extra
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == "accepted", answer.content
    assert Order.objects.get(number=number).status == Order.Status.PENDING_SHIPMENT


def test_a_notification_about_another_app_is_not_this_gateways(fake):
    _, api, number = buyer_with_order()
    api.post(f"/orders/{number}/pay", {"gateway": "wechatpay_miniprogram"})
    payment = Payment.objects.get(order__number=number)
    fake.pay(payment.out_trade_no)
    notice, headers = fake.notification(payment.out_trade_no)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    # The 公众号 JSAPI gateway's address: the trade names the mini-program's AppID.
    answer = Client().post(
        "/api/v1/payments/notify/wechatpay_jsapi", notice, content_type="application/json", **extra
    )
    assert answer.status_code == 400
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT


def test_without_a_bound_openid_the_payment_is_refused(fake):
    _, api, number = buyer_with_order(bound=False)
    # Another app's openid (the 公众号's) is not the mini-program's payer either.
    reply = api.post(f"/orders/{number}/pay", {"gateway": "wechatpay_miniprogram", "openid": MINI_OPENID})
    assert_refused(reply, 409, "WECHAT_MINIPROGRAM_NOT_BOUND")
    assert not fake.trades


def test_other_gateways_answer_no_pay_params(fake):
    _, api, number = buyer_with_order()
    reply = api.post(f"/orders/{number}/pay", {"gateway": "wechatpay"})
    assert reply.status_code == 200 and reply.json()["pay_params"] is None


def test_web_pages_never_offer_it(fake):
    assert "wechatpay_miniprogram" not in dict(gateway_choices())
    for in_wechat in (True, False):
        for mobile in (True, False):
            assert "wechatpay_miniprogram" not in dict(gateway_choices(in_wechat=in_wechat, mobile=mobile))
    buyer, _, number = buyer_with_order()
    phone_browser = "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36"
    for agent in (IN_WECHAT, phone_browser, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"):
        web = Client(HTTP_USER_AGENT=agent)
        web.force_login(buyer)
        # In WeChat the page would first learn the 公众号's openid: known already here.
        session = web.session
        session[wechat_oauth.SESSION_OPENID] = {"appid": wechatpay_fake.APPID, "openid": "o-mp-openid"}
        session.save()
        page = web.get(f"/orders/{number}/pay/")
        assert page.status_code == 200
        html = page.content.decode()
        assert 'name="gateway"' in html and "wechatpay_miniprogram" not in html
        # Nor does it take it when a form names it anyway: no trade, no error page.
        chosen = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_miniprogram"})
        assert chosen.status_code == 302 and chosen["Location"] == f"/orders/{number}/"
        assert not Payment.objects.filter(order__number=number, gateway="wechatpay_miniprogram").exists()


def test_the_system_check_names_what_is_missing(settings):
    from django.core.checks import run_checks

    assert [m for m in run_checks() if m.id.startswith("fenxiao.E")] == []
    settings.WECHAT_MINIPROGRAM = {"APPID": MINI_APPID}
    problems = [m.msg for m in run_checks() if m.id == "fenxiao.E010"]
    assert len(problems) == 1 and "WECHAT_MINIPROGRAM['SECRET']" in problems[0]
    settings.WECHAT_MINIPROGRAM = {}
    problems = [m.msg for m in run_checks() if m.id == "fenxiao.E010"]
    assert len(problems) == 2 and "WECHAT_MINIPROGRAM['APPID']" in problems[0]
    settings.WECHATPAY = {}
    settings.PAYMENT_GATEWAYS = ["wechatpay_miniprogram"]
    assert any("WECHATPAY_MCHID" in m.msg for m in run_checks() if m.id == "fenxiao.E010")
