"""WeChat Pay H5 (H5 支付) in a phone's browser outside WeChat: offered there instead of the
QR code the phone cannot scan, the trade opened with the buyer's address, the browser sent
to WeChat's h5_url with the order's result page to come back to, and the order paid by the
notification as with the other WeChat Pay gateways."""

import html
import json
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fenxiao.orders.models import Order
from fenxiao.payments.errors import PaymentNotAllowed
from fenxiao.payments.gateways import gateway_choices, is_phone
from fenxiao.payments.models import Payment, PaymentStatus
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import assert_refused, in_english, login, make_staff

from .helpers import place_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wechatpay")]

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
HARMONY = (
    "Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 "
    "Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
IN_WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.50 NetType/WIFI Language/zh_CN"
)
BUYER_IP = "203.0.113.7"
H5_PREFIX = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id="


@pytest.fixture(autouse=True)
def all_wechat_gateways(wechatpay, settings):
    settings.PAYMENT_GATEWAYS = ["wechatpay", "wechatpay_jsapi", "wechatpay_h5", "sandbox"]
    wechatpay.h5_refusal = None
    yield
    wechatpay.h5_refusal = None  # the stand-in outlives the test


def buyer_on(user_agent: str, price=2590):
    """A buyer with an unpaid order, browsing the shop with this browser from BUYER_IP."""
    client, number = place_order(price=price, quantity=1)
    web = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=BUYER_IP)
    web.force_login(Order.objects.get(number=number).buyer)
    return client, web, number


def h5_request(fake, out_trade_no: str) -> dict:
    """The body of the H5 下单 request that opened this trade, as WeChat Pay received it."""
    [body] = [
        json.loads(body)
        for method, path, body in fake.requests
        if (method, path) == ("POST", "/v3/pay/transactions/h5") and out_trade_no in body
    ]
    return body


def page_link(page) -> str:
    return html.unescape(re.search(r'id="wxpay-h5"[^>]*href="([^"]+)"', page.content.decode())[1])


def notify_h5(fake, out_trade_no: str):
    body, headers = fake.notification(out_trade_no)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return Client().post(
        "/api/v1/payments/notify/wechatpay_h5", body, content_type="application/json", **extra
    )


@pytest.mark.parametrize(
    "agent, phone",
    [
        (IPHONE_SAFARI, True),
        (ANDROID_CHROME, True),
        (ANDROID_TABLET, True),
        (HARMONY, True),
        (IN_WECHAT, True),
        (WINDOWS_CHROME, False),
        (MAC_SAFARI, False),
        ("", False),
    ],
)
def test_phones_and_tablets_are_told_from_computers_by_their_user_agent(agent, phone):
    assert is_phone(agent) is phone


def test_a_phone_browser_pays_in_the_wechat_app_and_comes_back_to_the_result_page(fake):
    _, web, number = buyer_on(IPHONE_SAFARI)
    pay_page = f"/orders/{number}/pay/"

    page = web.get(pay_page).content.decode()
    # The QR code would have to be scanned by the phone showing it: H5 replaces it.
    assert 'value="wechatpay_h5" checked' in page
    assert 'value="wechatpay"' not in page and "wechatpay_jsapi" not in page

    chosen = web.post(pay_page, {"gateway": "wechatpay_h5"})
    payment = Payment.objects.get(order__number=number)
    assert chosen.status_code == 302 and chosen["Location"] == f"/pay/{payment.out_trade_no}"
    trade = fake.trades[payment.out_trade_no]
    assert payment.pay_code == trade.code_url and trade.code_url.startswith(H5_PREFIX)
    sent = h5_request(fake, payment.out_trade_no)
    assert sent["scene_info"]["payer_client_ip"] == BUYER_IP
    assert sent["scene_info"]["h5_info"] == {
        "type": "Wap",
        "app_name": "分销商城",
        "app_url": "https://shop.example.com",
    }
    assert sent["notify_url"] == "https://shop.example.com/api/v1/payments/notify/wechatpay_h5"
    assert sent["amount"] == {"total": 2590, "currency": "CNY"} and sent["time_expire"].endswith("+08:00")

    cashier = web.get(chosen["Location"])
    assert cashier.status_code == 200
    # WeChat comes back to the order's result page (on SITE_URL: the H5 支付域名), which waits
    # for the notification.
    result = f"https://shop.example.com/orders/{number}/result/"
    assert page_link(cashier) == f"{trade.code_url}&redirect_url={quote(result, safe='')}"
    assert "打开微信支付" in cashier.content.decode()
    assert 'window.location.replace(document.getElementById("wxpay-h5").href)' in cashier.content.decode()
    # WeChat opens h5_url only for a Referer on the registered domain.
    assert cashier["Referrer-Policy"] == "strict-origin-when-cross-origin"

    fake.pay(payment.out_trade_no)
    answer = notify_h5(fake, payment.out_trade_no)
    assert answer.status_code == 200 and answer.json()["outcome"] == "accepted"
    assert Order.objects.get(number=number).status == Order.Status.PENDING_SHIPMENT
    back = web.get(f"/orders/{number}/result/")
    assert back.status_code == 200 and 'data-testid="pay-success"' in back.content.decode()
    assert web.get(chosen["Location"])["Location"] == f"/orders/{number}/result/"


def test_a_computer_still_gets_the_qr_code():
    _, web, number = buyer_on(WINDOWS_CHROME)
    page = web.get(f"/orders/{number}/pay/").content.decode()
    assert 'value="wechatpay" checked' in page and "wechatpay_h5" not in page

    chosen = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay"})
    cashier = web.get(chosen["Location"]).content.decode()
    assert 'data-testid="pay-qr"' in cashier and "wxpay-h5" not in cashier


def test_wechats_browser_still_gets_its_in_app_payment():
    assert gateway_choices(in_wechat=True, mobile=is_phone(IN_WECHAT)) == [
        ("wechatpay_jsapi", "微信支付"),
        ("sandbox", "沙箱支付"),
    ]


def test_without_h5_enabled_a_phone_still_gets_the_qr_code(settings):
    settings.PAYMENT_GATEWAYS = ["wechatpay", "sandbox"]
    assert gateway_choices(in_wechat=False, mobile=True) == [
        ("wechatpay", "微信支付"),
        ("sandbox", "沙箱支付"),
    ]
    settings.PAYMENT_GATEWAYS = ["wechatpay_h5"]
    assert gateway_choices(in_wechat=False, mobile=False) == []


def test_the_api_opens_an_h5_payment_with_the_callers_address(fake, settings):
    client, number = place_order(price=990, quantity=1)
    # Behind the mall's proxy, which writes the buyer's address in X-Real-IP.
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    client.client.defaults["HTTP_X_REAL_IP"] = "2001:db8::42"

    reply = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"})

    assert reply.status_code == 200, reply.content
    pay = reply.json()
    assert pay["gateway"] == "wechatpay_h5" and pay["amount"] == 990
    assert pay["pay_code"] == fake.trades[pay["out_trade_no"]].code_url and pay["pay_code"].startswith(
        H5_PREFIX
    )
    assert pay["pay_url"].endswith(f"/pay/{pay['out_trade_no']}")
    assert h5_request(fake, pay["out_trade_no"])["scene_info"]["payer_client_ip"] == "2001:db8::42"
    # Asked again within the link's life: the same trade.
    assert client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}).json() == pay

    # Without a result page of its own, WeChat brings the buyer back to the mall's pay page,
    # which then waits rather than sending them to WeChat again.
    cashier = client.client.get(f"/pay/{pay['out_trade_no']}")
    back = f"https://shop.example.com/pay/{pay['out_trade_no']}?returned=1"
    assert page_link(cashier) == f"{pay['pay_code']}&redirect_url={quote(back, safe='')}"
    returned = client.client.get(f"/pay/{pay['out_trade_no']}?returned=1").content.decode()
    assert "打开微信支付" in returned and "window.location.replace" not in returned


def test_an_expired_wechat_link_is_opened_afresh(fake):
    _, web, number = buyer_on(ANDROID_CHROME)
    first = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_h5"})["Location"]
    old = Payment.objects.get(order__number=number)
    Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=6))

    stale = web.get(first).content.decode()
    assert 'data-testid="wxpay-h5-stale"' in stale and 'wxpay-h5"' not in stale

    renewed = web.post(first, {"action": "renew"})

    new = Payment.objects.get(order__number=number, status=PaymentStatus.CREATED)
    assert renewed.status_code == 302 and renewed["Location"] == f"/pay/{new.out_trade_no}"
    assert new.out_trade_no != old.out_trade_no and new.return_url == f"/orders/{number}/result/"
    assert fake.trades[old.out_trade_no].state == "CLOSED"
    assert Payment.objects.get(pk=old.pk).status == PaymentStatus.CLOSED
    assert page_link(web.get(renewed["Location"])).startswith(fake.trades[new.out_trade_no].code_url)


def test_a_buyer_who_changed_networks_gets_a_trade_for_the_new_address(fake):
    _, web, number = buyer_on(IPHONE_SAFARI)
    first = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_h5"})["Location"]
    old = Payment.objects.get(order__number=number)
    assert old.client_ip == BUYER_IP and fake.trades[old.out_trade_no].client_ip == BUYER_IP
    # Tapped again from the same network within the link's life: the same trade.
    assert web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_h5"})["Location"] == first

    # From mobile data now: WeChat would refuse the old trade, so a new one is opened there.
    moved = Client(HTTP_USER_AGENT=IPHONE_SAFARI, REMOTE_ADDR="198.51.100.23")
    moved.force_login(old.order.buyer)
    again = moved.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_h5"})

    new = Payment.objects.get(order__number=number, status=PaymentStatus.CREATED)
    assert again.status_code == 302 and again["Location"] == f"/pay/{new.out_trade_no}" != first
    assert new.client_ip == "198.51.100.23"
    assert h5_request(fake, new.out_trade_no)["scene_info"]["payer_client_ip"] == "198.51.100.23"
    assert fake.trades[old.out_trade_no].state == "CLOSED"
    assert Payment.objects.get(pk=old.pk).status == PaymentStatus.CLOSED
    assert page_link(moved.get(again["Location"])).startswith(fake.trades[new.out_trade_no].code_url)

    fake.pay(new.out_trade_no, from_ip="198.51.100.23")
    assert notify_h5(fake, new.out_trade_no).json()["outcome"] == "accepted"
    assert Order.objects.get(number=number).status == Order.Status.PENDING_SHIPMENT
    assert not Payment.objects.filter(order__number=number, status=PaymentStatus.CREATED).exists()
    # Staff see which network each trade was opened for.
    page = login(make_staff(perms=["payments.view_payment"])).get(
        reverse("admin:payments_payment_change", args=[old.pk])
    )
    assert "付款人网络地址" in page.content.decode() and BUYER_IP in page.content.decode()


def test_the_pay_page_opened_from_another_network_offers_a_new_trade(fake):
    _, web, number = buyer_on(ANDROID_CHROME)
    page = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_h5"})["Location"]
    old = Payment.objects.get(order__number=number)
    assert page_link(web.get(page)).startswith(old.pay_code)

    moved = Client(HTTP_USER_AGENT=ANDROID_CHROME, REMOTE_ADDR="2001:db8::7")
    shown = moved.get(page).content.decode()
    # Not sent on to WeChat with a trade it would refuse from here, but asked to start again.
    assert 'data-testid="wxpay-h5-stale"' in shown and 'wxpay-h5"' not in shown
    assert "您的网络已切换" in shown and "window.location.replace" not in shown
    english = in_english(Client(HTTP_USER_AGENT=ANDROID_CHROME, REMOTE_ADDR="2001:db8::7")).get(page)
    assert "Your network has changed" in english.content.decode()

    renewed = moved.post(page, {"action": "renew"})

    new = Payment.objects.get(order__number=number, status=PaymentStatus.CREATED)
    assert renewed.status_code == 302 and renewed["Location"] == f"/pay/{new.out_trade_no}"
    assert new.client_ip == "2001:db8::7" and fake.trades[new.out_trade_no].client_ip == "2001:db8::7"
    assert fake.trades[old.out_trade_no].state == "CLOSED"
    assert page_link(moved.get(renewed["Location"])).startswith(new.pay_code)


def test_one_address_written_two_ways_is_one_network():
    client, number = place_order(price=990, quantity=1)
    client.client.defaults["REMOTE_ADDR"] = "2001:DB8:0:0::42"
    pay = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}).json()
    client.client.defaults["REMOTE_ADDR"] = "2001:db8::42"
    assert client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}).json() == pay
    assert Payment.objects.get().client_ip == "2001:db8::42"


def test_an_h5_trade_whose_address_is_unknown_is_not_reused(fake):
    """Trades opened before the address was kept: any address may be the wrong one."""
    client, number = place_order(price=990, quantity=1)
    first = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}).json()
    Payment.objects.filter(out_trade_no=first["out_trade_no"]).update(client_ip=None)

    second = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}).json()

    assert second["out_trade_no"] != first["out_trade_no"]
    assert fake.trades[first["out_trade_no"]].state == "CLOSED"
    assert Payment.objects.filter(status=PaymentStatus.CREATED).get().out_trade_no == second["out_trade_no"]


def test_a_merchant_without_h5_gets_a_clear_refusal_not_an_error(fake):
    fake.h5_refusal = (403, "NO_AUTH")
    client, number = place_order()

    body = assert_refused(
        client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}), 400, "WECHATPAY_H5_NOT_ENABLED"
    )
    assert "微信 H5 支付" in body["message"] and "NO_AUTH" in body["details"]["gateway"]
    assert not Payment.objects.exists()

    _, web, number = buyer_on(IPHONE_SAFARI)
    shown = web.post(f"/orders/{number}/pay/", {"gateway": "wechatpay_h5"}, follow=True)
    assert shown.status_code == 200 and "暂未开通微信 H5 支付" in shown.content.decode()
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT


def test_the_buyers_address_is_required():
    _, number = place_order()
    order = Order.objects.get(number=number)
    for address in ("", "unknown", "203.0.113.7, 10.0.0.1", "fe80::1%eth0"):
        with pytest.raises(PaymentNotAllowed) as refused:
            start_payment(order, "wechatpay_h5", client_ip=address)
        assert refused.value.code == "CLIENT_IP_REQUIRED"


def test_cancelling_closes_the_h5_trade(fake):
    client, number = place_order()
    pay = client.post(f"/orders/{number}/pay", {"gateway": "wechatpay_h5"}).json()

    assert client.post(f"/orders/{number}/cancel", {"reason": "不想要了"}).status_code == 200

    assert fake.trades[pay["out_trade_no"]].state == "CLOSED"
    assert Payment.objects.get(out_trade_no=pay["out_trade_no"]).status == PaymentStatus.CLOSED


def test_the_system_check_wants_wechatpay_configured_for_h5(settings):
    settings.PAYMENT_GATEWAYS = ["wechatpay_h5"]
    assert [m for m in run_checks() if m.id.startswith("fenxiao.E")] == []

    settings.WECHATPAY = {**settings.WECHATPAY, "MCHID": ""}
    assert [m.msg for m in run_checks() if m.id == "fenxiao.E010"] == ["WECHATPAY_MCHID is not set"]
