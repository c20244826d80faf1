"""Races on PostgreSQL: a stranded refund re-driven by sweepers, workers and staff at once.

Threads with their own connections are released together; Huey runs tasks inline, so each
sweep or retry calls the gateway inside its thread. The refund may reach the gateway more
than once (at least once), but the buyer is paid back once.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.orders.models import AfterSale
from fenxiao.orders.services import after_sales
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.gateways import sandbox
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Refund, RefusedNotificationTally, SandboxRefund, SandboxTrade
from fenxiao.payments.services import refunds
from fenxiao.payments.services.notifications import count_refused
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import (
    make_address,
    make_buyer,
    make_product,
    make_staff,
    postgres_only_marks,
    run_together,
)

pytestmark = postgres_only_marks()


class WorkerKilled(BaseException):
    pass


def test_a_stranded_refund_redriven_from_every_side_at_once_pays_once(monkeypatch):
    buyer = make_buyer()
    sku = make_product(price=5600, stock=10).skus.get()
    order = place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    SandboxGateway().complete_trade(start_payment(order, "sandbox").out_trade_no)
    order.refresh_from_db()
    assert order.status == "pending_shipment"

    def die():
        raise WorkerKilled

    monkeypatch.setattr(sandbox, "_slow_reply", die)
    with pytest.raises(WorkerKilled):
        after_sales.request_after_sale(
            order, make_staff(), kind="refund_only", reason="退款", lines=[{"line_id": order.lines.get().pk}]
        )
    monkeypatch.setattr(sandbox, "_slow_reply", lambda: None)
    refund = Refund.objects.get()
    assert refund.status == "processing"

    expired = timezone.now() + timedelta(minutes=6)
    sides = [
        lambda: refunds.sweep(expired),
        lambda: refunds.sweep(expired),
        lambda: refunds.retry_refund(refund),
        lambda: refunds.retry_refund(refund),
        lambda: refunds.execute_refund(refund.pk),
        lambda: refunds.execute_refund(refund.pk),
    ]
    results = run_together(len(sides), lambda i: sides[i]())
    unexpected = [r for r in results if isinstance(r, BaseException) and "无需重试" not in str(r)]
    assert unexpected == []

    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert SandboxRefund.objects.count() == 1
    assert SandboxTrade.objects.get().refunded_amount == 5600
    assert AfterSale.objects.get().status == "refunded"
    assert order.events.filter(kind="refunded").count() == 1


def test_simultaneous_refusals_keep_an_exact_count():
    hour = timezone.now()
    results = run_together(12, lambda i: count_refused("sandbox", "bad_signature", hour))
    assert sorted(results) == list(range(1, 13))
    assert RefusedNotificationTally.objects.get().count == 12
