"""The timeout sweep racing buyers, for real on PostgreSQL: buyers paying at the gateway and
buyers cancelling while two overlapping sweep runs cancel a backlog chunk by chunk. Every
order ends paid or cancelled, never both, and the stock is exactly right."""

import time
from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from fenxiao.catalog.models import Sku
from fenxiao.core.errors import InvalidTransition
from fenxiao.orders.models import Order, OrderEvent, OrderLine, OrderSettings
from fenxiao.orders.services import checkout, lifecycle, payments_port, sweeps
from fenxiao.payments.gateways.sandbox import SandboxGateway, paid_notification
from fenxiao.payments.models import Payment, Refund, SandboxTrade
from fenxiao.payments.services.payments import apply_gateway_payment
from fenxiao.testing import make_address, make_buyer, make_product, postgres_only_marks, run_together

from .test_sweeps import expired_backlog

pytestmark = postgres_only_marks()


def test_buyers_paying_and_cancelling_while_two_sweeps_run_end_paid_or_cancelled_never_both():
    OrderSettings.current()
    skus = [make_product(price=1000 + i, stock=10_000).skus.get() for i in range(4)]
    initial = dict(Sku.objects.filter(pk__in=[s.pk for s in skus]).values_list("pk", "stock"))

    # Buyers who opened a gateway payment before their deadline and pay during the sweep.
    paying = []
    for i in range(15):
        buyer = make_buyer()
        order = checkout.place_order(buyer, [(skus[i % 4].pk, 1 + i % 2)], address_id=make_address(buyer).pk)
        paying.append((order, payments_port.start_payment(order, "sandbox")))
    Order.objects.filter(pk__in=[o.pk for o, _ in paying]).update(
        pay_deadline=timezone.now() - timedelta(minutes=1)
    )
    # A backlog with no payment open: cancelled in bulk, ten of its buyers cancel by hand meanwhile.
    backlog = expired_backlog(300, skus, make_buyer())
    cancelling = [Order.objects.get(pk=pk) for pk in backlog[::30]]

    def work(i):
        if i < 2:
            return sweeps.cancel_expired_orders(chunk_size=50)
        if i < 2 + len(paying):
            _order, payment = paying[i - 2]
            time.sleep((i % 5) * 0.1)  # staggered: some confirm before the sweep's close, some after
            trade = SandboxGateway().complete_trade(payment.out_trade_no, notify=False)
            if trade.status != SandboxTrade.Status.PAID:
                return "closed first"  # the sweep closed the trade before the buyer confirmed
            return apply_gateway_payment("sandbox", paid_notification(trade))
        try:
            lifecycle.cancel(cancelling[i - 2 - len(paying)], None, reason="不想要了")
            return "cancelled by buyer"
        except InvalidTransition:
            return "sweep first"

    results = run_together(2 + len(paying) + len(cancelling), work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]

    # Every order is in exactly one final state, with exactly one event saying so.
    ids = [o.pk for o, _ in paying] + backlog
    states = dict(Order.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert set(states.values()) <= {"pending_shipment", "cancelled"}
    assert sum(r for r in results[:2]) + sum(r == "cancelled by buyer" for r in results[2:]) == sum(
        s == "cancelled" for s in states.values()
    )
    events = OrderEvent.objects.filter(order_id__in=ids, kind__in=["paid", "cancelled"])
    per_order = dict(events.values("order_id").annotate(n=Count("pk")).values_list("order_id", "n"))
    assert per_order == dict.fromkeys(ids, 1)
    kinds = dict(events.values_list("order_id", "kind"))
    assert all(
        kinds[pk] == ("paid" if state == "pending_shipment" else "cancelled") for pk, state in states.items()
    )
    assert all(states[pk] == "cancelled" for pk in backlog)

    for order, payment in paying:
        payment.refresh_from_db()
        trade = SandboxTrade.objects.get(out_trade_no=payment.out_trade_no)
        if states[order.pk] == "pending_shipment":
            assert (payment.status, payment.applied, trade.status) == ("succeeded", True, "paid")
        else:
            assert (payment.status, trade.status) == ("closed", "closed")
    assert not Refund.objects.exists()  # no one paid for an order that was then cancelled
    assert Payment.objects.filter(status="succeeded").count() == sum(
        s == "pending_shipment" for s in states.values()
    )

    # Stock: everything of the cancelled orders is back, what the paid orders hold is not.
    held = dict(
        OrderLine.objects.filter(order__status="pending_shipment", sku__in=skus)
        .values("sku_id")
        .annotate(q=Sum("quantity"))
        .values_list("sku_id", "q")
    )
    stocks = dict(Sku.objects.filter(pk__in=[s.pk for s in skus]).values_list("pk", "stock"))
    assert stocks == {pk: stock - held.get(pk, 0) for pk, stock in initial.items()}
