"""Gateway notifications: duplicates change nothing, late money goes back, failures retry."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation
from huey.contrib.djhuey import HUEY

from fenxiao.catalog.models import Product, Sku
from fenxiao.orders.models import Order
from fenxiao.payments.gateways import sandbox
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Payment, PaymentNotification, Refund, SandboxTrade
from fenxiao.testing import api_for, make_address, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

NOTIFY_URL = "/api/v1/payments/notify/sandbox"


@pytest.fixture(autouse=True)
def _empty_task_schedule():
    # Immediate-mode Huey keeps retries in memory, shared by every test in the process.
    HUEY.flush()
    yield
    HUEY.flush()


def notify(body: bytes, headers: dict):
    extra = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"
    }
    return Client().post(NOTIFY_URL, body, content_type="application/json", **extra)


def order_with_open_payment(price=3000, quantity=2):
    sku = make_product(price=price, stock=10).skus.get()
    buyer = make_buyer()
    client = api_for(buyer)
    placed = client.post(
        "/checkout",
        {"lines": [{"sku_id": sku.pk, "quantity": quantity}], "address_id": make_address(buyer).pk},
    )
    assert placed.status_code == 201, placed.content
    number = placed.json()["number"]
    pay = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"})
    assert pay.status_code == 200, pay.content
    return client, number, pay.json(), sku


def confirm_on_pay_page(client, pay):
    page = client.client.post(pay["pay_url"].replace("http://testserver", ""), {"action": "pay"})
    assert page.status_code == 200


def run_scheduled_retries() -> int:
    """What the every-minute sweeper does once the next delivery falls due."""
    later = timezone.now() + datetime.timedelta(hours=1)
    return sandbox.sweep_notifications(later)


def test_duplicate_notification_changes_nothing():
    client, number, pay, sku = order_with_open_payment()
    confirm_on_pay_page(client, pay)
    order = Order.objects.get(number=number)
    assert (order.status, order.paid_amount) == ("pending_shipment", 6000)
    paid_at = order.paid_at
    assert Product.objects.get(pk=sku.product_id).sales_count == 2

    trade = SandboxTrade.objects.get(out_trade_no=pay["out_trade_no"])
    for _ in range(2):  # the gateway did not hear our answer and sends it again, freshly signed
        reply = notify(*SandboxGateway().build_notification(trade))
        assert reply.status_code == 200
        assert reply.json() == {"code": "SUCCESS", "message": "成功", "outcome": "duplicate"}

    order.refresh_from_db()
    assert (order.status, order.paid_amount, order.paid_at) == ("pending_shipment", 6000, paid_at)
    assert order.events.filter(kind="paid").count() == 1
    payment = Payment.objects.get()
    assert (payment.status, payment.applied, payment.transaction_id) == ("succeeded", True, trade.trade_no)
    assert Product.objects.get(pk=sku.product_id).sales_count == 2
    assert Refund.objects.count() == 0
    assert list(PaymentNotification.objects.order_by("id").values_list("outcome", flat=True)) == [
        "accepted",
        "duplicate",
        "duplicate",
    ]


def test_late_payment_on_a_cancelled_order_is_refunded():
    client, number, pay, sku = order_with_open_payment()
    reply = client.post(f"/orders/{number}/cancel", {"reason": "不想要了"})
    assert reply.json()["status"] == "cancelled"
    assert Sku.objects.get(pk=sku.pk).stock == 10
    assert Payment.objects.get().status == "closed"
    # The bank side raced our close: the buyer's money was taken after all.
    SandboxTrade.objects.filter(out_trade_no=pay["out_trade_no"]).update(
        status="paid", trade_no="SBXLATE0001", paid_at=timezone.now()
    )
    trade = SandboxTrade.objects.get(out_trade_no=pay["out_trade_no"])

    reply = notify(*SandboxGateway().build_notification(trade))
    assert reply.status_code == 200
    assert reply.json()["outcome"] == "late_refunded"

    order = Order.objects.get(number=number)
    assert (order.status, order.paid_amount, order.refunded_amount) == ("cancelled", 0, 0)
    payment = Payment.objects.get()
    assert (payment.status, payment.applied) == ("succeeded", False)
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount, refund.status) == (payment.pk, 6000, "succeeded")
    assert refund.after_sale is None
    trade.refresh_from_db()
    assert trade.refunded_amount == 6000
    late = order.events.get(kind="late_payment_refunded")
    out_trade_no = pay["out_trade_no"]
    assert late.message == f"订单已取消，支付单 {out_trade_no} 的款项原路退回"
    with translation.override("en"):  # the log reads in its reader's language
        assert (
            late.text
            == f"Order status: Cancelled; payment {out_trade_no} refunded to the original payment method"
        )
    assert not order.events.filter(kind="paid").exists()
    assert Sku.objects.get(pk=sku.pk).stock == 10  # not taken again
    assert Product.objects.get(pk=sku.product_id).sales_count == 0
    assert PaymentNotification.objects.get().outcome == "late_refunded"

    # The same late notification again: nothing more is refunded.
    again = notify(*SandboxGateway().build_notification(trade))
    assert again.json()["outcome"] == "duplicate"
    assert Refund.objects.count() == 1
    assert SandboxTrade.objects.get(pk=trade.pk).refunded_amount == 6000


def test_second_payment_of_a_paid_order_is_refunded():
    client, number, first, _ = order_with_open_payment(price=5000, quantity=1)
    staff = api_for(make_staff(perms=["orders.change_order", "orders.view_order"]))
    adjusted = staff.post(f"/staff/orders/{number}/adjust", {"discount_amount": 1000, "shipping_fee": 0})
    assert adjusted.json()["total"] == 4000
    second = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()
    assert second["out_trade_no"] != first["out_trade_no"]
    confirm_on_pay_page(client, second)
    assert Order.objects.get(number=number).paid_amount == 4000
    # The first, closed payment is reported paid after all.
    SandboxTrade.objects.filter(out_trade_no=first["out_trade_no"]).update(
        status="paid", trade_no="SBXLATE0002", paid_at=timezone.now()
    )
    reply = notify(
        *SandboxGateway().build_notification(SandboxTrade.objects.get(out_trade_no=first["out_trade_no"]))
    )
    assert reply.json()["outcome"] == "late_refunded"
    order = Order.objects.get(number=number)
    assert (order.status, order.paid_amount, order.refunded_amount) == ("pending_shipment", 4000, 0)
    refund = Refund.objects.get()
    assert (refund.payment.out_trade_no, refund.amount, refund.status) == (
        first["out_trade_no"],
        5000,
        "succeeded",
    )
    assert Payment.objects.get(applied=True).out_trade_no == second["out_trade_no"]


def test_failed_delivery_is_retried_until_the_order_is_paid(monkeypatch):
    client, number, pay, sku = order_with_open_payment()
    reach_the_mall = sandbox.deliver
    attempts = []

    def flaky(url, body, headers):
        attempts.append(url)
        if len(attempts) <= 2:
            return 502, b"Bad Gateway"
        return reach_the_mall(url, body, headers)

    monkeypatch.setattr(sandbox, "deliver", flaky)
    confirm_on_pay_page(client, pay)
    assert len(attempts) == 1
    assert Order.objects.get(number=number).status == "pending_payment"
    trade = SandboxTrade.objects.get(out_trade_no=pay["out_trade_no"])
    assert (trade.status, trade.notify_attempts, trade.notified_at) == ("paid", 1, None)
    assert (trade.notify_status, trade.notify_last_error) == ("pending", "HTTP 502 Bad Gateway")
    assert trade.notify_next_at > timezone.now()  # not before the backoff
    assert sandbox.sweep_notifications() == 0
    assert attempts[0].endswith(NOTIFY_URL)

    assert run_scheduled_retries() == 1  # second attempt fails too, and is scheduled again
    assert Order.objects.get(number=number).status == "pending_payment"
    assert run_scheduled_retries() == 1
    assert len(attempts) == 3

    order = Order.objects.get(number=number)
    assert (order.status, order.paid_amount) == ("pending_shipment", 6000)
    trade.refresh_from_db()
    assert (trade.notify_attempts, trade.notify_status) == (3, "delivered")
    assert trade.notified_at is not None
    assert PaymentNotification.objects.get().outcome == "accepted"
    assert Product.objects.get(pk=sku.product_id).sales_count == 2
    assert run_scheduled_retries() == 0  # acknowledged: the gateway stops


def test_refused_notification_is_logged_and_retried_by_the_gateway(monkeypatch):
    client, number, pay, _ = order_with_open_payment()
    signed_by_gateway = SandboxGateway.build_notification
    # The gateway signs with a key the mall does not hold (a secret rotated on one side only).
    monkeypatch.setattr(
        SandboxGateway,
        "build_notification",
        lambda self, trade: signed_by_gateway(SandboxGateway("rotated"), trade),
    )
    confirm_on_pay_page(client, pay)
    assert Order.objects.get(number=number).status == "pending_payment"
    assert PaymentNotification.objects.get().outcome == "bad_signature"
    trade = SandboxTrade.objects.get()
    assert trade.notified_at is None
    assert trade.notify_status == "pending"  # the gateway will try again

    monkeypatch.setattr(SandboxGateway, "build_notification", signed_by_gateway)
    assert run_scheduled_retries() == 1
    assert Order.objects.get(number=number).status == "pending_shipment"


def test_forged_notifications_cannot_grow_the_log_without_limit():
    from fenxiao.payments.models import RefusedNotificationTally
    from fenxiao.payments.services.notifications import REFUSED_KEPT_PER_HOUR

    forged = b'{"out_trade_no":"X","transaction_id":"T","amount":1,"paid_at":1}'
    for i in range(REFUSED_KEPT_PER_HOUR + 40):
        reply = notify(forged, {"X-Sandbox-Signature": f"{i:064x}", "X-Sandbox-Timestamp": "1"})
        assert reply.status_code == 400
        assert reply.json()["code"] == "PAYMENT_SIGNATURE_INVALID"
    for _ in range(5):  # no signature at all: refused for the same reason
        assert notify(b"{}", {}).status_code == 400

    kept = PaymentNotification.objects.filter(outcome="bad_signature")
    assert kept.count() == REFUSED_KEPT_PER_HOUR  # the first of the hour, in full
    tally = RefusedNotificationTally.objects.get()
    assert (tally.gateway, tally.outcome, tally.count) == (
        "sandbox",
        "bad_signature",
        REFUSED_KEPT_PER_HOUR + 45,
    )

    # A genuine notification is still kept in full, whatever the flood.
    client, number, pay, _ = order_with_open_payment()
    confirm_on_pay_page(client, pay)
    assert PaymentNotification.objects.filter(outcome="accepted").count() == 1
    assert Order.objects.get(number=number).status == "pending_shipment"


def test_refusals_are_counted_per_reason_and_hour():
    from fenxiao.payments.models import RefusedNotificationTally
    from fenxiao.payments.services.notifications import count_refused

    now = timezone.now()
    assert count_refused("sandbox", "expired", now) == 1
    assert count_refused("sandbox", "expired", now) == 2
    assert count_refused("sandbox", "malformed", now) == 1
    assert count_refused("sandbox", "expired", now + datetime.timedelta(hours=1)) == 1
    assert RefusedNotificationTally.objects.count() == 3
