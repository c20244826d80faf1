"""Forged, stale, mismatched or malformed payment notifications, and refunds above what
was paid, are refused with a 4xx and a code, and pay nothing."""

import json
import time

import pytest
from django.conf import settings as django_settings
from django.test import Client

from fenxiao.orders.models import AfterSale, Order
from fenxiao.payments.gateways import sandbox
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Payment, PaymentNotification, Refund, SandboxTrade
from fenxiao.testing import (
    api_for,
    assert_refused,
    make_staff,
)

from .bad_input import NOTIFY_URL, checkout_body, has_chinese

pytestmark = pytest.mark.django_db


# --- payment notifications --------------------------------------------------------------------


@pytest.fixture
def paid_at_gateway(shop, monkeypatch):
    """An order whose buyer has paid at the gateway; the gateway's own notice is held back."""
    from fenxiao.payments import tasks

    client, _, address, sku = shop
    number = client.post("/checkout", checkout_body(address, sku, 2)).json()["number"]
    pay = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()
    monkeypatch.setattr(tasks, "deliver_sandbox_notification", lambda out_trade_no: None)
    trade = SandboxGateway().complete_trade(pay["out_trade_no"])
    assert trade.status == "paid"
    return number, trade


def notify(body: bytes, headers: dict):
    extra = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"
    }
    return Client().post(NOTIFY_URL, body, content_type="application/json", **extra)


def signed(body: bytes, *, timestamp=None, secret=None, nonce="n0nce"):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return body, {
        sandbox.TIMESTAMP_HEADER: timestamp,
        sandbox.NONCE_HEADER: nonce,
        sandbox.SIGNATURE_HEADER: sandbox.sign(
            secret or django_settings.SANDBOX_PAY_SECRET, timestamp, nonce, body
        ),
    }


def assert_unpaid(number, outcome):
    order = Order.objects.get(number=number)
    assert (order.status, order.paid_amount, order.paid_at) == ("pending_payment", 0, None)
    assert Payment.objects.get(order=order).status == "created"
    assert not order.events.filter(kind="paid").exists()
    log = PaymentNotification.objects.get()
    assert log.outcome == outcome
    assert has_chinese(log.detail)
    return log


def test_notification_with_tampered_body(paid_at_gateway):
    number, trade = paid_at_gateway
    body, headers = SandboxGateway().build_notification(trade)
    tampered = body.replace(b'"amount":10000', b'"amount":1')
    assert tampered != body
    assert_refused(notify(tampered, headers), 400, "PAYMENT_SIGNATURE_INVALID")
    log = assert_unpaid(number, "bad_signature")
    assert log.body == tampered.decode()


@pytest.mark.parametrize("mangle", ["flip", "drop", "other_secret", "empty"])
def test_notification_with_bad_signature(paid_at_gateway, mangle):
    number, trade = paid_at_gateway
    body, headers = SandboxGateway().build_notification(trade)
    if mangle == "flip":
        sig = headers[sandbox.SIGNATURE_HEADER]
        headers[sandbox.SIGNATURE_HEADER] = ("0" if sig[0] != "0" else "1") + sig[1:]
    elif mangle == "drop":
        del headers[sandbox.SIGNATURE_HEADER]
    elif mangle == "other_secret":
        body, headers = signed(body, secret="not-the-secret")
    else:
        body = b""
    assert_refused(notify(body, headers), 400, "PAYMENT_SIGNATURE_INVALID")
    assert_unpaid(number, "bad_signature")


# Ten seconds past the limit into the future: the timestamp is whole seconds, and the call
# takes a moment, so one second past it could arrive inside the window.
@pytest.mark.parametrize("age", [301, 3600, -310])
def test_stale_or_future_notification(paid_at_gateway, age):
    number, trade = paid_at_gateway
    body, _ = SandboxGateway().build_notification(trade)
    reply = notify(*signed(body, timestamp=int(time.time()) - age))
    assert_refused(reply, 400, "PAYMENT_NOTIFICATION_EXPIRED")
    assert_unpaid(number, "expired")


def test_notification_amount_mismatch(paid_at_gateway):
    number, trade = paid_at_gateway
    body, _ = SandboxGateway().build_notification(trade)
    data = json.loads(body)
    assert data["amount"] == 10000
    data["amount"] = 9999
    reply = notify(*signed(json.dumps(data).encode()))
    assert_refused(reply, 400, "PAYMENT_AMOUNT_MISMATCH")
    log = assert_unpaid(number, "amount_mismatch")
    assert (log.amount, log.out_trade_no) == (9999, trade.out_trade_no)
    # The genuine notification still goes through afterwards.
    reply = notify(*SandboxGateway().build_notification(trade))
    assert reply.status_code == 200
    assert reply.json()["outcome"] == "accepted"
    assert Order.objects.get(number=number).status == "pending_shipment"


def test_notification_for_unknown_payment(paid_at_gateway):
    number, trade = paid_at_gateway
    body, _ = SandboxGateway().build_notification(trade)
    data = {**json.loads(body), "out_trade_no": "NO-SUCH-PAYMENT"}
    assert_refused(notify(*signed(json.dumps(data).encode())), 404, "PAYMENT_NOT_FOUND")
    log = PaymentNotification.objects.get()
    assert log.outcome == "unknown_payment"
    assert Order.objects.get(number=number).status == "pending_payment"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"out_trade_no": "x"}',
        b'{"out_trade_no":"x","transaction_id":"t","amount":"a","paid_at":1}',
    ],
)
def test_malformed_signed_notification(paid_at_gateway, body):
    number, _ = paid_at_gateway
    assert_refused(notify(*signed(body)), 400, "PAYMENT_NOTIFICATION_MALFORMED")
    assert PaymentNotification.objects.get().outcome == "malformed"
    assert Order.objects.get(number=number).status == "pending_payment"


def test_notification_for_unknown_gateway(paid_at_gateway):
    _, trade = paid_at_gateway
    body, headers = SandboxGateway().build_notification(trade)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    reply = Client().post("/api/v1/payments/notify/wechat", body, content_type="application/json", **extra)
    assert_refused(reply, 400, "PAYMENT_GATEWAY_UNAVAILABLE")


# --- refunds above what was paid ---------------------------------------------------------------


def test_refund_above_paid(paid_at_gateway):
    number, trade = paid_at_gateway
    assert notify(*SandboxGateway().build_notification(trade)).status_code == 200
    order = Order.objects.get(number=number)
    line = order.lines.get()
    buyer = api_for(order.buyer)
    staff = api_for(make_staff(perms=["orders.change_aftersale"]))
    for client, path in (
        (buyer, f"/orders/{number}/after-sales"),
        (staff, f"/staff/orders/{number}/refunds"),
    ):
        for lines in (
            [{"line_id": line.pk, "amount": 10001}],
            [{"line_id": line.pk, "quantity": 1, "amount": 10001}],
        ):
            reply = client.post(path, {"kind": "refund_only", "reason": "多退点", "lines": lines})
            assert_refused(reply, 400, "REFUND_EXCEEDS_PAID")
    assert AfterSale.objects.count() == 0
    assert Refund.objects.count() == 0
    assert Order.objects.get(number=number).refunded_amount == 0
    assert SandboxTrade.objects.get().refunded_amount == 0
