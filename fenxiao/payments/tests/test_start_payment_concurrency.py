"""Pay requests for one order at the same instant, on PostgreSQL: threads with their own
connections, released together. However they interleave, the order ends with one open trade
at its gateways, so the buyer cannot pay twice.

(On SQLite the IMMEDIATE transactions serialise these requests the same way, but the test
database is an in-memory shared cache whose table locks do not, so the interleaving is
replayed step by step in `test_start_payment` instead.)
"""

import threading

import pytest

from fenxiao.orders.models import Order
from fenxiao.payments.models import Payment, PaymentStatus
from fenxiao.payments.services import payments
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import postgres_only_marks, run_together

from .helpers import place_order

pytestmark = [*postgres_only_marks(), pytest.mark.usefixtures("wechatpay")]

BUYER_IP = "203.0.113.7"


@pytest.fixture(autouse=True)
def gateways(wechatpay, settings):
    settings.PAYMENT_GATEWAYS = ["wechatpay", "wechatpay_h5", "sandbox"]


def test_six_taps_at_once_open_one_h5_trade(fake):
    _, number = place_order()
    order_id = Order.objects.get(number=number).pk

    results = run_together(
        6, lambda i: start_payment(Order.objects.get(pk=order_id), "wechatpay_h5", client_ip=BUYER_IP)
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert len({p.out_trade_no for p in results}) == 1
    assert Payment.objects.count() == len(fake.trades) == 1


def test_two_requests_for_different_ways_to_pay_at_once_leave_one_open_trade(fake, monkeypatch):
    """Both requests have looked for open payments (none) before either takes the order's
    lock: the one that comes second finds the first one's trade under the lock and closes it."""
    _, number = place_order()
    order_id = Order.objects.get(number=number).pk
    both_looked = threading.Barrier(2)
    read = payments._open_payments
    looked = threading.local()

    def read_and_wait(order):
        seen = read(order)
        if not getattr(looked, "once", False):
            looked.once = True
            both_looked.wait(timeout=30)
        return seen

    monkeypatch.setattr(payments, "_open_payments", read_and_wait)
    asked = [("wechatpay", ""), ("wechatpay_h5", BUYER_IP)]

    results = run_together(
        2, lambda i: start_payment(Order.objects.get(pk=order_id), asked[i][0], client_ip=asked[i][1])
    )

    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert {p.gateway for p in results} == {"wechatpay", "wechatpay_h5"}
    [opened] = Payment.objects.filter(status=PaymentStatus.CREATED)
    [closed] = Payment.objects.exclude(pk=opened.pk)
    assert closed.status == PaymentStatus.CLOSED
    assert {n: t.state for n, t in fake.trades.items()} == {
        opened.out_trade_no: "NOTPAY",
        closed.out_trade_no: "CLOSED",
    }
