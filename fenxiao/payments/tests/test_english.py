"""Paying in English: the sandbox cashier, the mall's own pay page (WeChat Pay's QR code),
the payment refusals of the API and the backend's payment records. Chinese stays the default."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Payment, PaymentNotification, Refund, SandboxTrade
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import (
    api_for,
    backend_content,
    chinese_left,
    in_english,
    login,
    make_address,
    make_buyer,
    make_product,
    make_staff,
    pay_in_sandbox,
)

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3400-\u9fff]")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def english_address(user):
    return make_address(
        user,
        recipient="Ann Lee",
        province="Zhejiang",
        city="Hangzhou",
        district="Xihu",
        detail="100 Wensan Road",
    )


@pytest.fixture
def buyer():
    user = make_buyer()
    user.address = english_address(user)
    return user


@pytest.fixture
def order_number(buyer):
    sku = make_product("Linen shirt", price=4990, stock=10).skus.get()
    placed = api_for(buyer).post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 2}], "address_id": buyer.address.pk}
    )
    assert placed.status_code == 201, placed.content
    return placed.json()["number"]


def english(body: str, *data: str) -> str:
    assert chinese_left(body, *data) == [], chinese_left(body, *data)
    return body


# --- the buyer's pages ------------------------------------------------------------------------


def test_sandbox_cashier_in_english(buyer, order_number):
    pay = api_for(buyer).post(f"/orders/{order_number}/pay", {"gateway": "sandbox"}).json()
    trade = SandboxTrade.objects.get(out_trade_no=pay["out_trade_no"])
    web = in_english(Client())
    # The trade's description is what the mall sent the gateway: the gateway's data.
    body = english(web.get(pay["pay_url"]).content.decode(), trade.description)
    assert '<html lang="en">' in body
    assert "Sandbox cashier" in body and "Confirm payment" in body and "Cancel payment" in body
    assert "Sandbox: no real money is charged" in body

    SandboxGateway().complete_trade(trade.out_trade_no, notify=False)
    trade.refresh_from_db()
    trade.return_url = ""
    trade.save(update_fields=["return_url"])
    body = english(web.get(pay["pay_url"]).content.decode(), trade.description)
    assert "Payment successful" in body


def test_sandbox_cashier_stays_chinese_by_default(buyer, order_number):
    pay = api_for(buyer).post(f"/orders/{order_number}/pay", {"gateway": "sandbox"}).json()
    body = Client().get(pay["pay_url"]).content.decode()
    assert '<html lang="zh-hans">' in body and "沙箱收银台" in body and "确认支付" in body


def test_wechatpay_page_in_english(wechatpay, buyer, order_number):
    web = in_english(Client())
    web.force_login(buyer)
    chosen = web.post(f"/orders/{order_number}/pay/", {"gateway": "wechatpay"})
    assert chosen.status_code == 302
    payment = Payment.objects.get(order__number=order_number, gateway="wechatpay")
    body = english(web.get(chosen["Location"]).content.decode())
    assert "WeChat Pay" in body and "I've paid" in body and "<svg" in body
    # "I've paid" before paying: the gateway has no result yet, said in English.
    body = english(web.post(chosen["Location"]).content.decode())
    assert "No payment result yet" in body
    assert Payment.objects.get(pk=payment.pk).status == "created"


def test_the_payment_choice_names_gateways_in_english(wechatpay):
    from fenxiao.payments.gateways import gateway_choices

    with translation.override("en"):
        assert gateway_choices() == [("wechatpay", "WeChat Pay"), ("sandbox", "Sandbox pay")]
    with translation.override("zh-hans"):
        assert gateway_choices() == [("wechatpay", "微信支付"), ("sandbox", "沙箱支付")]


# --- the API's refusals -----------------------------------------------------------------------


def english_refusal(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.content
    body = reply.json()
    assert body["code"] == code, body
    assert body["message"] and not CJK.search(body["message"]), body
    return body


def test_payment_refusals_in_english_with_the_same_code(buyer, order_number):
    client = api_for(buyer).client
    headers = {"HTTP_AUTHORIZATION": api_for(buyer)._headers()["HTTP_AUTHORIZATION"]}
    url = f"/api/v1/orders/{order_number}/pay"

    def pay(gateway, **extra):
        return client.post(url, {"gateway": gateway}, content_type="application/json", **headers, **extra)

    english_refusal(pay("bitcoin", **EN), 400, "PAYMENT_GATEWAY_UNAVAILABLE")
    assert CJK.search(pay("bitcoin").json()["message"])
    from fenxiao.orders.models import Order

    pay_in_sandbox(Order.objects.get(number=order_number))
    english_refusal(pay("sandbox", **EN), 409, "PAYMENT_NOT_ALLOWED")
    assert CJK.search(pay("sandbox").json()["message"])


# --- the backend ------------------------------------------------------------------------------


@pytest.fixture
def records(buyer, order_number):
    """A paid order (with its notification) and an open payment of another order."""
    from fenxiao.orders.models import Order

    paid = Order.objects.get(number=order_number)
    pay_in_sandbox(paid)
    payment = Payment.objects.get(order=paid, status="succeeded")
    trade = SandboxTrade.objects.get(out_trade_no=payment.out_trade_no)
    sku = make_product("Canvas bag", price=1990, stock=5).skus.get()
    other = api_for(buyer).post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": buyer.address.pk}
    )
    open_payment = start_payment(Order.objects.get(number=other.json()["number"]), "sandbox")
    refund = Refund.objects.create(
        payment=payment,
        out_refund_no="RF-TEST-1",
        amount=500,
        reason="Damaged",
        status="failed",
        failure_reason="Card closed",
    )
    PaymentNotification.objects.create(gateway="sandbox", out_trade_no="NOPE", outcome="unknown_payment")
    return {"payment": payment, "open": open_payment, "trade": trade, "refund": refund}


def test_backend_payment_pages_in_english(records):
    boss = in_english(login(make_staff("boss", superuser=True)))
    data = [records["trade"].description, records["open"].order.number]
    pages = [
        reverse("admin:payments_payment_changelist"),
        reverse("admin:payments_payment_change", args=[records["payment"].pk]),
        reverse("admin:payments_payment_query_one", args=[records["open"].pk]),
        reverse("admin:payments_refund_changelist"),
        reverse("admin:payments_refund_change", args=[records["refund"].pk]),
        reverse("admin:payments_refund_retry_one", args=[records["refund"].pk]),
        reverse("admin:payments_paymentnotification_changelist"),
        reverse("admin:payments_refusednotificationtally_changelist"),
        reverse("admin:payments_sandboxtrade_changelist"),
        reverse("admin:payments_sandboxtrade_change", args=[records["trade"].pk]),
    ]
    for url in pages:
        reply = boss.get(url)
        assert reply.status_code == 200, url
        body = backend_content(reply.content.decode())
        assert chinese_left(body, *data) == [], (url, chinese_left(body, *data))
    listing = boss.get(reverse("admin:payments_payment_changelist")).content.decode()
    assert "Paid" in listing and "Pending payment" in listing
    query = boss.get(reverse("admin:payments_payment_query_one", args=[records["open"].pk])).content.decode()
    assert "Query the gateway for the result" in query and "Merchant payment number" in query
    retry = boss.get(reverse("admin:payments_refund_retry_one", args=[records["refund"].pk])).content.decode()
    assert "Retry refund: RF-TEST-1" in retry and "Attempts" in retry and "Card closed" in retry


def test_backend_action_messages_in_english(records):
    boss = in_english(login(make_staff("boss", superuser=True)))
    url = reverse("admin:payments_payment_query_one", args=[records["open"].pk])
    reply = boss.post(url, {"_confirm": "1"}, follow=True)
    messages = [str(m) for m in reply.context["messages"]]
    assert messages and not any(CJK.search(m) for m in messages), messages
    # The sandbox trade has been delivered: redelivering it is refused in English.
    trade = records["trade"]
    changelist = reverse("admin:payments_sandboxtrade_changelist")
    reply = boss.post(
        changelist, {"action": "redeliver_selected", "_selected_action": [trade.pk]}, follow=True
    )
    messages = [str(m) for m in reply.context["messages"]]
    assert messages and not any(CJK.search(m) for m in messages), messages


def test_backend_payment_list_stays_chinese_by_default(records):
    boss = login(make_staff("boss", superuser=True))
    body = backend_content(boss.get(reverse("admin:payments_payment_changelist")).content.decode())
    assert "已支付" in body and "待支付" in body


def test_a_refused_notification_is_kept_in_the_shop_language_whatever_the_call_asks():
    from fenxiao.core.errors import DomainError
    from fenxiao.payments.services.notifications import handle_notification

    with translation.override("en"), pytest.raises(DomainError) as refused:
        handle_notification("sandbox", {}, b'{"out_trade_no": "X1"}')
    row = PaymentNotification.objects.get()
    assert row.detail and re.search(r"[\u4e00-\u9fff]", row.detail), row.detail
    assert row.detail == refused.value.message
