"""Alipay 手机网站支付 against a local stand-in that checks the protocol: the signed form
the pay page posts, notifications answered `success`, verified answers, closing, and
refunds that are never paid twice."""

import html
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.checks import run_checks
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from fenxiao.orders.models import Order
from fenxiao.payments.gateways.alipay_client import fen, yuan
from fenxiao.payments.models import Payment, PaymentNotification, PaymentStatus, RefundStatus
from fenxiao.payments.services import refunds
from fenxiao.testing import api_for, assert_refused, make_address, make_buyer, make_product

from . import alipay_fake
from .helpers import place_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alipay")]

NOTIFY_URL = "/api/v1/payments/notify/alipay"
FORM_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def notify(body: bytes):
    return Client().post(NOTIFY_URL, body, content_type="application/x-www-form-urlencoded; charset=utf-8")


def start_alipay(client, number) -> dict:
    reply = client.post(
        f"/orders/{number}/pay", {"gateway": "alipay", "return_url": f"/orders/{number}/result/"}
    )
    assert reply.status_code == 200, reply.content
    return reply.json()


def cashier_form(client, pay) -> tuple[str, dict]:
    page = client.client.get(urlsplit(pay["pay_url"]).path).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" id="alipay-form".*?</form>', page, re.S)
    return html.unescape(form[1]), {name: html.unescape(value) for name, value in FORM_FIELD.findall(form[0])}


def paid(alipay):
    client, number = place_order()
    pay = start_alipay(client, number)
    alipay.open_cashier(cashier_form(client, pay)[1])
    alipay.pay(pay["out_trade_no"])
    assert notify(alipay.notification(pay["out_trade_no"])).content == b"success"
    return client, Order.objects.get(number=number), pay


def test_the_pay_page_sends_the_buyer_to_alipay_with_a_signed_form_and_the_notification_pays(alipay):
    client, number = place_order(price=4990, quantity=2)
    order = Order.objects.get(number=number)
    pay = start_alipay(client, number)
    assert urlsplit(pay["pay_url"]).path == f"/pay/{pay['out_trade_no']}"

    action, fields = cashier_form(client, pay)
    assert action == alipay.gateway + "?charset=utf-8"
    trade = alipay.open_cashier(fields)  # Alipay checks the app's signature on the form
    biz = json.loads(fields["biz_content"])
    assert (trade.total, biz["total_amount"], biz["product_code"]) == (9980, "99.80", "QUICK_WAP_WAY")
    deadline = timezone.localtime(order.pay_deadline, timezone.get_fixed_timezone(480))
    assert biz["time_expire"] == deadline.strftime("%Y-%m-%d %H:%M:%S")
    assert fields["notify_url"] == "https://shop.example.com/api/v1/payments/notify/alipay"
    assert fields["return_url"] == biz["quit_url"] == f"https://shop.example.com/orders/{number}/result/"

    alipay.pay(pay["out_trade_no"])
    body = alipay.notification(pay["out_trade_no"])
    answer = notify(body)

    # Alipay stops re-sending only on the plain text "success".
    assert answer.status_code == 200 and answer.content == b"success"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT
    payment = Payment.objects.get(out_trade_no=pay["out_trade_no"])
    assert payment.transaction_id == trade.trade_no and payment.amount == 9980
    assert notify(body).content == b"success"
    assert (
        PaymentNotification.objects.filter(gateway="alipay").values_list("outcome", flat=True)[0]
        == "duplicate"
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"total_amount": "0.01"}, "PAYMENT_AMOUNT_MISMATCH"),  # signed by Alipay, but not what was asked
        ({"sign": "AAAA"}, "PAYMENT_SIGNATURE_INVALID"),
        ({"app_id": "2021000000000999"}, "PAYMENT_SIGNATURE_INVALID"),
    ],
)
def test_a_notification_that_does_not_hold_is_refused(alipay, changes, code):
    client, number = place_order()
    pay = start_alipay(client, number)
    alipay.open_cashier(cashier_form(client, pay)[1])
    alipay.pay(pay["out_trade_no"])

    assert_refused(notify(alipay.notification(pay["out_trade_no"], **changes)), 400, code)
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT


def test_a_tampered_field_breaks_the_signature(alipay):
    client, number = place_order()
    pay = start_alipay(client, number)
    alipay.open_cashier(cashier_form(client, pay)[1])
    alipay.pay(pay["out_trade_no"])
    body = alipay.notification(pay["out_trade_no"]).replace(b"total_amount=99.80", b"total_amount=0.01")
    assert_refused(notify(body), 400, "PAYMENT_SIGNATURE_INVALID")


def test_news_of_a_closed_trade_is_acknowledged_and_applies_nothing(alipay):
    client, number = place_order()
    pay = start_alipay(client, number)
    alipay.open_cashier(cashier_form(client, pay)[1])
    answer = notify(alipay.notification(pay["out_trade_no"], trade_status="TRADE_CLOSED"))
    assert answer.content == b"success"
    assert PaymentNotification.objects.get(gateway="alipay").outcome == "ignored"
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT


def test_alipay_is_not_offered_inside_wechat():
    buyer = make_buyer()
    sku = make_product(price=100).skus.get()
    number = (
        api_for(buyer)
        .post(
            "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": make_address(buyer).pk}
        )
        .json()["number"]
    )
    for agent, offered in (
        ("Mozilla/5.0 (iPhone) Mobile Safari", True),
        ("Mozilla/5.0 MicroMessenger/8.0", False),
    ):
        web = Client(HTTP_USER_AGENT=agent)
        web.force_login(buyer)
        assert ('value="alipay"' in web.get(f"/orders/{number}/pay/").content.decode()) is offered


def test_i_have_paid_asks_alipay(alipay):
    client, number = place_order()
    pay = start_alipay(client, number)
    alipay.open_cashier(cashier_form(client, pay)[1])
    alipay.pay(pay["out_trade_no"])  # the notification is late

    late = client.client.post(f"/pay/{pay['out_trade_no']}")

    assert late.status_code == 302 and late["Location"] == f"/orders/{number}/result/"
    payment = Payment.objects.get(out_trade_no=pay["out_trade_no"])
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.paid_at == timezone.make_aware(
        timezone.datetime(2026, 12, 3, 10, 34, 56), timezone.get_fixed_timezone(480)
    )


def test_cancelling_before_the_cashier_was_opened_closes_the_payment(alipay):
    client, number = place_order()
    pay = start_alipay(client, number)

    assert client.post(f"/orders/{number}/cancel", {"reason": "不想要了"}).status_code == 200

    assert Payment.objects.get(out_trade_no=pay["out_trade_no"]).status == PaymentStatus.CLOSED
    # The pay page no longer sends anyone to Alipay.
    assert 'id="alipay-form"' not in client.client.get(f"/pay/{pay['out_trade_no']}").content.decode()


def test_cancelling_a_trade_paid_meanwhile_applies_it_instead(alipay):
    client, number = place_order()
    pay = start_alipay(client, number)
    alipay.open_cashier(cashier_form(client, pay)[1])
    alipay.pay(pay["out_trade_no"])

    assert_refused(client.post(f"/orders/{number}/cancel", {"reason": "不想要了"}), 409, "ORDER_ALREADY_PAID")
    assert Order.objects.get(number=number).status == Order.Status.PENDING_SHIPMENT


def test_a_refund_asked_again_is_not_paid_twice(alipay):
    _, order, pay = paid(alipay)

    with transaction.atomic():
        row = refunds.refund_order(order, 3000, reason="商品有破损")
    row.refresh_from_db()
    assert row.status == RefundStatus.SUCCEEDED
    assert alipay.trades[pay["out_trade_no"]].refunds == {row.out_refund_no: 3000}

    # A worker that died after Alipay paid asks again under the same number: fund_change N,
    # then the refund query says it is paid.
    from fenxiao.payments.gateways.alipay import AlipayGateway

    again = AlipayGateway().refund(
        out_trade_no=pay["out_trade_no"], out_refund_no=row.out_refund_no, amount=3000, reason="x"
    )
    assert again.succeeded and alipay.trades[pay["out_trade_no"]].refunds == {row.out_refund_no: 3000}
    assert alipay.calls[-2:] == ["alipay.trade.refund", "alipay.trade.fastpay.refund.query"]


def test_a_refund_over_what_was_paid_fails_with_alipays_reason(alipay, monkeypatch):
    _, order, pay = paid(alipay)
    alipay.trades[pay["out_trade_no"]].refunds["elsewhere"] = 9000  # refunded on Alipay's site
    with transaction.atomic():
        row = refunds.refund_order(order, 3000, reason="商品有破损")
    row.refresh_from_db()
    assert row.status == RefundStatus.FAILED and "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" in row.failure_reason


def test_an_answer_alipay_did_not_sign_is_no_answer(alipay):
    _, order, _ = paid(alipay)
    alipay.forge_answers = True
    with transaction.atomic():
        row = refunds.refund_order(order, 1000, reason="商品有破损")
    row.refresh_from_db()
    assert row.status == RefundStatus.PENDING and "GatewayUnreachable" in row.last_error
    alipay.forge_answers = False
    refunds.sweep(timezone.now() + timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == RefundStatus.SUCCEEDED


@given(st.integers(min_value=0, max_value=10**11 - 1))
def test_amounts_go_to_yuan_and_back_exactly(amount):
    assert fen(yuan(amount)) == amount


@pytest.mark.parametrize("text", ["1.234", "-1.00", "1e3", "", "１.00", "0.1.2"])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(ValueError):
        fen(text)
    assert fen("12.3") == 1230 and fen("7") == 700


def test_the_system_check_names_what_is_missing(settings):
    assert [m for m in run_checks() if m.id == "fenxiao.E010"] == []
    settings.ALIPAY = {**settings.ALIPAY, "APP_ID": ""}
    assert [m.msg for m in run_checks() if m.id == "fenxiao.E010"] == ["ALIPAY_APP_ID is not set"]
    assert alipay_fake.APP_ID


def test_a_garbled_answer_is_a_clear_refusal_not_an_error(alipay, monkeypatch):
    client, number = place_order()
    pay = start_alipay(client, number)
    alipay.open_cashier(cashier_form(client, pay)[1])
    monkeypatch.setattr(alipay, "handle", lambda form: '{"alipay_trade_close_response":')

    assert_refused(
        client.post(f"/orders/{number}/cancel", {"reason": "不想要了"}), 503, "PAYMENT_GATEWAY_UNREACHABLE"
    )
    assert Order.objects.get(number=number).status == Order.Status.PENDING_PAYMENT


def test_a_refusal_for_a_refund_alipay_already_paid_is_not_a_failure(alipay, monkeypatch):
    _, order, pay = paid(alipay)
    trade = alipay.trades[pay["out_trade_no"]]
    real_refund = alipay._refund

    def paid_then_refused(biz):
        real_refund(biz)  # Alipay pays it, then the answer is a refusal (a rival attempt)
        return alipay._failed("ACQ.TRADE_HAS_CLOSE", "交易已关闭")

    monkeypatch.setattr(alipay, "_refund", paid_then_refused)
    with transaction.atomic():
        row = refunds.refund_order(order, 3000, reason="商品有破损")
    row.refresh_from_db()
    assert row.status == RefundStatus.SUCCEEDED and trade.refunds == {row.out_refund_no: 3000}


def test_the_pay_page_of_an_order_past_its_time_sends_nobody_to_alipay(alipay):
    client, number = place_order()
    pay = start_alipay(client, number)
    Order.objects.filter(number=number).update(pay_deadline=timezone.now() - timedelta(minutes=1))
    page = client.client.get(f"/pay/{pay['out_trade_no']}").content.decode()
    assert "订单已超过付款时间" in page and 'id="alipay-form"' not in page
