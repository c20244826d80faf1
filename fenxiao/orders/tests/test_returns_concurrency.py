"""Two deadline sweeps at once, for real on PostgreSQL, while buyers ship their parcels
back: every due after-sale is acted on exactly once (one refund, one history line, one
notice), and a parcel shipped back at the last moment is never closed."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from fenxiao.core.errors import InvalidTransition
from fenxiao.notices.models import Message
from fenxiao.orders.models import AfterSale, AfterSaleLog, OrderEvent
from fenxiao.orders.services import after_sale_sweep, after_sales, lifecycle
from fenxiao.payments.models import Refund
from fenxiao.testing import make_staff, postgres_only_marks, run_together

from .backend import make_order, pay, set_return_address

pytestmark = postgres_only_marks()


def shipped_sale(staff, kind, step):
    order = pay(make_order(prices=(2500,)))
    lifecycle.ship(order, staff, carrier="shunfeng", tracking_number="SF12345678")
    sale = after_sales.request_after_sale(
        order, order.buyer, kind=kind, reason_code="quality", lines=[{"line_id": order.lines.get().pk}]
    )
    if step in ("awaiting_return", "return_shipped"):
        after_sales.approve(sale, staff)
    if step == "return_shipped":
        after_sales.ship_back(sale, order.buyer, carrier="yunda", tracking_number="4318000000001")
    return AfterSale.objects.select_related("order").get(pk=sale.pk)


def test_two_sweeps_and_buyers_shipping_back_act_once_each():
    set_return_address()
    staff = make_staff("boss")
    silent = [shipped_sale(staff, "refund_only", "requested") for _ in range(4)]
    silent += [shipped_sale(staff, "return_refund", "requested") for _ in range(3)]
    waiting = [shipped_sale(staff, "return_refund", "awaiting_return") for _ in range(6)]
    parcels = [shipped_sale(staff, "return_refund", "return_shipped") for _ in range(4)]
    late_shippers = waiting[::2]
    # Past the merchant's 2 days and the buyer's 7; the parcels' 10 days have run out too,
    # a parcel shipped back during the race has not.
    now = timezone.now() + timedelta(days=8)
    AfterSale.objects.filter(pk__in=[s.pk for s in parcels]).update(deadline=now - timedelta(minutes=1))

    def work(i):
        if i < 2:
            return after_sale_sweep.sweep_deadlines(now, chunk_size=2)
        sale = late_shippers[i - 2]
        try:
            after_sales.ship_back(
                sale, sale.order.buyer, carrier="zhongtong", tracking_number="7853000000009"
            )
            return "shipped"
        except InvalidTransition:
            return "closed first"

    results = run_together(2 + len(late_shippers), work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    runs = results[:2]
    shipped_in_time = [s for s, r in zip(late_shippers, results[2:], strict=True) if r == "shipped"]

    assert sum(r["approved"] for r in runs) == len(silent)
    assert sum(r["received"] for r in runs) == len(parcels)
    assert sum(r["closed"] for r in runs) == len(waiting) - len(shipped_in_time)

    status = dict(AfterSale.objects.values_list("pk", "status"))
    assert all(status[s.pk] == "refunded" for s in silent[:4] + parcels)
    assert all(status[s.pk] == "awaiting_return" for s in silent[4:])
    assert all(status[s.pk] == "return_shipped" for s in shipped_in_time)
    assert all(status[s.pk] == "closed" for s in waiting if s not in shipped_in_time)

    # Once each: one refund per refunded after-sale, one history line per step, one notice.
    refunds = dict(
        Refund.objects.values("after_sale_id").annotate(n=Count("pk")).values_list("after_sale_id", "n")
    )
    assert refunds == {s.pk: 1 for s in silent[:4] + parcels}
    logs = AfterSaleLog.objects.filter(kind__in=["approved", "received", "closed"])
    per_sale = logs.values("after_sale_id", "kind").annotate(n=Count("pk"))
    assert {row["n"] for row in per_sale} == {1}
    closed = [s for s in waiting if s not in shipped_in_time]
    assert OrderEvent.objects.filter(kind="after_sale_closed").count() == len(closed)
    assert Message.objects.filter(kind="after_sale_closed").count() == len(closed)

    # A third run has nothing left but the returns the first runs approved for the silent
    # merchant: their buyer's own 7 days (from the real approval) are over at `now` too.
    assert after_sale_sweep.sweep_deadlines(now) == {
        "closed": len(silent[4:]),
        "approved": 0,
        "received": 0,
    }
    assert after_sale_sweep.sweep_deadlines(now) == {"closed": 0, "approved": 0, "received": 0}
