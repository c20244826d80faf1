"""A fixture shop whose every figure is counted by hand below.

Five days, D0..D4 (D0 = ten days ago), each event at noon shop time, built through the
services a real shop goes through (checkout, the sandbox cashier, ship, confirm receipt,
staff refunds, settlement, a withdrawal). Traffic rows are written directly: they are raw
facts the tracking writers record. After each day the incremental refresh runs, as the
periodic task would.

    D0  distributors A (no grade) and B (金牌, under A) designated
        o1  buyer1 (bound to B)  lamp ×2  = 200.00 paid        commission B 20.00, A 10.00
        o2  buyer2               pen ×3 = 60.00 - 10.00 改价 = 50.00 paid
        o3  buyer2               pen ×1 placed, cancelled unpaid
    D1  distributor C designated
        o4  buyer3 (bound to B)  lamp ×1 = 100.00 paid, cancelled the same day: refund 100.00,
            commission B 10.00, A 5.00 cancelled
        o1  shipped and received (commission frozen)
    D2  o5  buyer1  pen ×2 = 40.00 paid                       commission B 4.00, A 2.00 (pending)
        o2  partial refund 1 pen, 10.00
    D3  settlement: o1's commission B 20.00, A 10.00 settled
    D4  o1  refund 1 lamp 100.00 after settlement: clawback B 10.00, A 5.00
        B withdraws 10.00 (no fee), paid
"""

import contextlib
from datetime import datetime, time, timedelta
from unittest import mock

from django.utils import timezone

from fenxiao.analytics.models import VisitorDay
from fenxiao.analytics.services import aggregates
from fenxiao.distribution.models import DistributorGrade, Withdrawal
from fenxiao.distribution.services import binding, settlement
from fenxiao.distribution.tests.helpers import (
    buy,
    configure,
    make_distributor,
    place,
    receive,
    sku,
    staff_refund,
    superuser,
)
from fenxiao.orders.models import OrderSettings
from fenxiao.orders.services import lifecycle
from fenxiao.testing import api_for, make_buyer, make_category, make_product

LAMP, PEN = 10000, 2000
_real_now = timezone.now


def day(n: int):
    """Day n of the shop, on the real calendar (also inside `on_day`)."""
    return timezone.localtime(_real_now()).date() - timedelta(days=10 - n)


@contextlib.contextmanager
def on_day(n: int):
    """Everything that asks django.utils.timezone for the time is at noon of day n (plus
    the real time elapsed, so timestamps still increase)."""
    real_now = _real_now
    started = real_now()
    noon = timezone.make_aware(datetime.combine(day(n), time(12)))
    with mock.patch("django.utils.timezone.now", lambda: noon + (real_now() - started)):
        yield


def visit(n, visitor, *, buyer=None, source="direct", distributor=None, pv=1, products=0, carts=0):
    at = timezone.make_aware(datetime.combine(day(n), time(12)))
    return VisitorDay.objects.create(
        day=day(n),
        visitor=visitor,
        buyer=buyer,
        source=source,
        distributor=distributor,
        page_views=pv,
        product_views=products,
        cart_adds=carts,
        first_seen_at=at,
        last_seen_at=at,
    )


def build_shop(refresh=True) -> dict:
    """Run the five days; returns the actors. With `refresh`, the incremental refresh runs
    at the end of every day."""
    s = {}

    def end_of_day():
        if refresh:
            aggregates.refresh()

    with on_day(0):
        configure(
            levels=2,
            level1_bp=1000,
            level2_bp=500,
            self_purchase=False,
            freeze_days=1,
            withdraw_min=100,
            withdraw_fee_bp=0,
        )
        OrderSettings.objects.create(after_sale_days=1)
        gold = DistributorGrade.objects.create(name="金牌", weight=90)
        s["a"] = a = make_distributor()
        s["b"] = b = make_distributor(parent=a, grade=gold)
        s["lamp"] = lamp = make_product("台灯", category=make_category("灯具"), price=LAMP)
        s["pen"] = pen = make_product("钢笔", category=make_category("文具"), price=PEN)
        s["buyer1"], s["buyer2"], s["buyer3"] = b1, b2, b3 = make_buyer(), make_buyer(), make_buyer()
        binding.record_touch(b1, b, "link")
        binding.record_touch(b3, b, "qr")
        s["o1"] = buy(b1, (sku(lamp), 2))
        s["o2"] = buy(b2, (sku(pen), 3), discount=1000)
        s["o3"] = place(b2, (sku(pen), 1))
        lifecycle.cancel(s["o3"], b2)
        visit(0, "v1", buyer=b1, source="link", distributor=b, pv=5, products=2, carts=1)
        visit(0, "v2", buyer=b2, pv=3, products=1)
        visit(0, "v3", source="search", pv=1)
        end_of_day()
    with on_day(1):
        s["c"] = make_distributor()
        s["o4"] = buy(b3, (sku(lamp), 1))
        lifecycle.cancel(s["o4"], b3)
        receive(s["o1"])
        visit(1, "v1", buyer=b1, source="link", distributor=b, pv=2)
        visit(1, "v4", buyer=b3, source="qr", distributor=b, pv=4, products=1, carts=1)
        end_of_day()
    with on_day(2):
        s["o5"] = buy(b1, (sku(pen), 2))
        line = s["o2"].lines.get()
        staff_refund(s["o2"], {"line_id": line.pk, "quantity": 1, "amount": 1000})
        visit(2, "v1", buyer=b1, source="link", distributor=b, pv=3, products=1)
        end_of_day()
    with on_day(3):
        assert settlement.settle_due(timezone.now()) is not None
        end_of_day()
    with on_day(4):
        line = s["o1"].lines.get()
        staff_refund(s["o1"], {"line_id": line.pk, "quantity": 1, "amount": 10000})
        reply = api_for(b.user).post(
            "/distribution/withdrawals",
            {"amount": 1000, "method": "alipay", "account": {"name": "王五", "account": "b@alipay.com"}},
        )
        assert reply.status_code == 201, reply.content
        number = reply.json()["number"]
        approved = api_for(superuser()).post(f"/staff/distribution/withdrawals/{number}/approve")
        assert approved.status_code == 200, approved.content
        assert Withdrawal.objects.get(number=number).status == Withdrawal.Status.PAID
        end_of_day()
    return s
