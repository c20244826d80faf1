"""The periodic sweeps, a chunk at a time: a backlog of unpaid orders past their deadline
is cancelled in one run (stock exactly back, one event each, store credit returned),
orders with a payment open still go through their gateway, shipped orders past their
auto-complete time freeze exactly their commission, and the statements per chunk do not
grow with the chunk."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.catalog.models import Sku
from fenxiao.customers.models import WalletEntry
from fenxiao.customers.services import wallet
from fenxiao.distribution.models import Commission, Distributor
from fenxiao.distribution.services import config
from fenxiao.distribution.tests.helpers import (
    assert_totals_match_history,
    bound_buyer,
    configure,
    make_distributor,
)
from fenxiao.orders.models import Order, OrderEvent, OrderLine
from fenxiao.orders.services import checkout, lifecycle, sweeps
from fenxiao.payments.models import Payment
from fenxiao.testing import api_for, make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)
PAST = timedelta(minutes=31)


def expired_backlog(count: int, skus: list[Sku], buyer) -> list[int]:
    """`count` unpaid orders past their payment deadline, written in bulk exactly as checkout
    leaves them (lines snapshotted, stock taken): a thousand checkouts one by one would take
    minutes. Order i has line quantities 1 + i % 3 on SKU i % n and 1 on SKU (i + 1) % n."""
    deadline = timezone.now() - timedelta(minutes=1)
    orders, lines, taken = [], [], {sku.pk: 0 for sku in skus}
    for i in range(count):
        items = [(skus[i % len(skus)], 1 + i % 3), (skus[(i + 1) % len(skus)], 1)]
        goods = sum(sku.price * qty for sku, qty in items)
        orders.append(
            Order(
                number=f"T{next(_numbers):018d}",
                buyer=buyer,
                goods_amount=goods,
                total=goods,
                recipient="张三",
                recipient_phone="13800000000",
                province="浙江省",
                city="杭州市",
                address_detail="文三路 1 号",
                pay_deadline=deadline,
            )
        )
        for sku, qty in items:
            taken[sku.pk] += qty
    Order.objects.bulk_create(orders)
    orders = list(Order.objects.filter(number__in=[o.number for o in orders]).order_by("pk"))
    for i, order in enumerate(orders):
        for sku, qty in [(skus[i % len(skus)], 1 + i % 3), (skus[(i + 1) % len(skus)], 1)]:
            lines.append(
                OrderLine(
                    order=order,
                    sku=sku,
                    product_id=sku.product_id,
                    product_name="测试商品",
                    sku_code=sku.code,
                    unit_price=sku.price,
                    quantity=qty,
                    subtotal=sku.price * qty,
                    paid_amount=sku.price * qty,
                )
            )
    OrderLine.objects.bulk_create(lines)
    for sku_pk, qty in taken.items():
        Sku.objects.filter(pk=sku_pk).update(stock=F("stock") - qty)
    return [o.pk for o in orders]


def stocks(skus) -> dict[int, int]:
    return dict(Sku.objects.filter(pk__in=[s.pk for s in skus]).values_list("pk", "stock"))


def place(buyer, sku, quantity=1, **extra) -> Order:
    return checkout.place_order(buyer, [(sku.pk, quantity)], address_id=make_address(buyer).pk, **extra)


def open_payment(order: Order) -> dict:
    reply = api_for(order.buyer).post(f"/orders/{order.number}/pay", {"gateway": "sandbox"})
    assert reply.status_code == 200, reply.content
    return reply.json()


def test_a_backlog_is_cancelled_in_one_run_and_open_payments_still_go_to_their_gateway(monkeypatch):
    from django.test import Client

    from fenxiao.payments.gateways import sandbox

    monkeypatch.setattr(sweeps, "CHUNK_SIZE", 100)
    skus = [make_product(price=1000 + i, stock=10_000).skus.get() for i in range(7)]
    initial = stocks(skus)
    backlog = expired_backlog(1200, skus, make_buyer())

    # A buyer who opened a gateway payment and walked away: closed there, then cancelled.
    walked_away = place(make_buyer(), skus[0], 2)
    open_payment(walked_away)
    # A buyer who paid at the gateway whose notification has not arrived: the sweep's
    # close fails, the gateway says paid, the order is paid, not cancelled.
    paid_late = place(make_buyer(), skus[1], 3)
    pay_url = open_payment(paid_late)["pay_url"]
    monkeypatch.setattr(sandbox, "deliver", lambda url, body, headers: (503, b"down"))
    Client().post(pay_url.replace("http://testserver", ""), {"action": "pay"})
    # Store credit spent on part of an order comes back to the buyer.
    saver = make_buyer()
    WalletEntry.objects.create(user=saver, amount=500, source_key="test-topup:saver")
    part_wallet = place(saver, skus[2], 1, use_wallet=True)
    assert part_wallet.wallet_amount == 500 and wallet.balance(saver.pk) == 0
    # Not due yet, and already paid: untouched.
    not_due = place(make_buyer(), skus[3], 1)
    paid = place(make_buyer(), skus[4], 1)
    pay_in_sandbox(paid)
    Order.objects.filter(pk__in=[walked_away.pk, paid_late.pk, part_wallet.pk]).update(
        pay_deadline=timezone.now() - timedelta(minutes=1)
    )

    assert sweeps.cancel_expired_orders() == 1200 + 2  # the backlog, walked_away and part_wallet

    cancelled = backlog + [walked_away.pk, part_wallet.pk]
    assert Order.objects.filter(status="cancelled").count() == len(cancelled)
    assert set(Order.objects.filter(status="cancelled").values_list("pk", flat=True)) == set(cancelled)
    events = OrderEvent.objects.filter(order_id__in=cancelled, kind="cancelled")
    assert events.count() == len(cancelled)
    assert not events.values("order_id").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert set(events.values_list("actor_kind", "message").distinct()) == {
        ("system", "订单已取消：超时未付款，系统自动取消")
    }
    assert set(Order.objects.filter(pk__in=backlog).values_list("cancel_reason", flat=True)) == {
        "超时未付款，系统自动取消"
    }
    # Every unit of the cancelled orders is back; paid_late's 3, not_due's 1 and paid's 1 are not.
    held = {skus[1].pk: 3, skus[3].pk: 1, skus[4].pk: 1}
    assert stocks(skus) == {pk: stock - held.get(pk, 0) for pk, stock in initial.items()}
    assert Payment.objects.get(order=walked_away).status == "closed"
    paid_late.refresh_from_db()
    assert paid_late.status == "pending_shipment" and paid_late.paid_amount == paid_late.total
    assert wallet.balance(saver.pk) == 500
    assert Order.objects.get(pk=not_due.pk).status == "pending_payment"
    assert Order.objects.get(pk=paid.pk).status == "pending_shipment"
    # The next run has nothing left to do.
    assert sweeps.cancel_expired_orders() == 0
    assert wallet.balance(saver.pk) == 500


def test_a_run_stops_taking_chunks_once_its_budget_is_spent():
    skus = [make_product(stock=1000).skus.get()]
    expired_backlog(25, skus, make_buyer())
    assert sweeps.cancel_expired_orders(chunk_size=10, budget_seconds=0) == 10
    assert sweeps.cancel_expired_orders(chunk_size=10, budget_seconds=0) == 10
    assert sweeps.cancel_expired_orders(chunk_size=10) == 5
    assert Sku.objects.get(pk=skus[0].pk).stock == 1000


def test_the_state_machine_still_guards_the_bulk_cancel(monkeypatch):
    """Only pending payment → cancelled: if the flow ever stopped allowing it, the sweep
    refuses before touching a row."""
    from fenxiao.core.errors import InvalidTransition
    from fenxiao.orders.models import ORDER_FLOW

    skus = [make_product(stock=100).skus.get()]
    expired_backlog(3, skus, make_buyer())
    monkeypatch.setitem(ORDER_FLOW.transitions, "pending_payment", {"pending_shipment"})
    with pytest.raises(InvalidTransition):
        sweeps.cancel_expired_orders()
    assert not Order.objects.filter(status="cancelled").exists()


def _count_cancel_queries(n: int) -> int:
    skus = [make_product(stock=10_000).skus.get() for _ in range(3)]
    expired_backlog(n, skus, make_buyer())
    with CaptureQueriesContext(connection) as ctx:
        assert sweeps.cancel_expired_orders(chunk_size=1000) == n
    return len(ctx.captured_queries)


def test_statements_per_cancel_chunk_do_not_grow_with_the_chunk():
    small = _count_cancel_queries(10)
    Order.objects.all().delete()
    assert _count_cancel_queries(100) == small
    # 10, plus what promotions give back: flash stock and limits, coupons, group seats
    assert small <= 13


# --- auto-complete -----------------------------------------------------------------------------


def shipped_orders(n: int, distributor, staff) -> list[Order]:
    product = make_product(price=10000, stock=10_000)
    orders = []
    for _ in range(n):
        order = place(bound_buyer(distributor), product.skus.get())
        pay_in_sandbox(order)
        orders.append(
            lifecycle.ship(Order.objects.get(pk=order.pk), staff, carrier="中通", tracking_number="ZT1")
        )
    return orders


def test_auto_complete_freezes_exactly_the_chunks_commission_until_its_hold_ends():
    staff = make_staff(superuser=True)
    parent = make_distributor()
    distributor = make_distributor(parent=parent)
    due = shipped_orders(3, distributor, staff)
    later = shipped_orders(1, distributor, staff)
    confirmed = shipped_orders(1, distributor, staff)[0]
    lifecycle.complete(confirmed)
    confirmed_hold = set(Commission.objects.filter(order=confirmed).values_list("frozen_until", flat=True))
    Order.objects.filter(pk__in=[o.pk for o in due]).update(
        auto_complete_at=timezone.now() - timedelta(minutes=1)
    )
    assert Commission.objects.filter(order__in=due, status="pending").count() == 6  # two levels each

    assert sweeps.auto_complete_orders() == 3

    for order in due:
        order.refresh_from_db()
        assert order.status == "completed"
        assert list(order.events.filter(kind="completed").values_list("actor_kind", "message")) == [
            ("system", "发货后到期，系统自动确认收货")
        ]
        held = Commission.objects.filter(order=order)
        assert {(c.status, c.frozen_until) for c in held} == {
            ("frozen", config.hold_until(order.completed_at))
        }
    assert set(Commission.objects.filter(order__in=later).values_list("status", "frozen_until")) == {
        ("pending", None)
    }
    assert (
        set(Commission.objects.filter(order=confirmed).values_list("frozen_until", flat=True))
        == confirmed_hold
    )
    # The dashboards' running totals moved with the chunk's freeze.
    assert_totals_match_history(parent, distributor)
    assert sweeps.auto_complete_orders() == 0


def test_auto_complete_makes_a_buyer_meeting_the_condition_a_distributor():
    configure(enable_mode="condition", condition_kind="completed_orders", condition_orders=1)
    staff = make_staff(superuser=True)
    orders = shipped_orders(2, None, staff)
    Order.objects.filter(pk=orders[0].pk).update(auto_complete_at=timezone.now() - timedelta(minutes=1))
    assert sweeps.auto_complete_orders() == 1
    assert Distributor.objects.filter(
        user_id=orders[0].buyer_id, status="active", source="condition"
    ).exists()
    assert not Distributor.objects.filter(user_id=orders[1].buyer_id).exists()


def _count_complete_queries(n: int) -> int:
    staff = make_staff(f"staff{n}", superuser=True)
    orders = shipped_orders(n, make_distributor(parent=make_distributor()), staff)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        auto_complete_at=timezone.now() - timedelta(minutes=1)
    )
    with CaptureQueriesContext(connection) as ctx:
        assert sweeps.auto_complete_orders(chunk_size=1000) == n
    return len(ctx.captured_queries)


def test_statements_per_auto_complete_chunk_do_not_grow_with_the_chunk():
    small = _count_complete_queries(3)
    assert _count_complete_queries(30) == small
    # Plus one running-totals update per distributor the chunk pays (two levels here), and
    # one read of who subscribes to the order.completed webhook (nobody here).
    assert small <= 13
