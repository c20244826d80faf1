"""Races, run for real on PostgreSQL: many buyers, repeated gateway calls, double clicks.

Each test commits its data (transaction=True) and starts real threads, each with its own
database connection, released together by a barrier. `on_commit` callbacks run for real and
Huey runs tasks inline, so refunds and notifications happen inside the racing requests.
"""

from django.test import Client

from fenxiao.catalog.models import Product, Sku
from fenxiao.orders.models import AfterSale, Order, OrderEvent, OrderLine, OrderSettings
from fenxiao.orders.services import checkout
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Payment, PaymentNotification, Refund, SandboxTrade
from fenxiao.testing import (
    ApiClient,
    api_for,
    make_address,
    make_buyer,
    make_product,
    make_staff,
    postgres_only_marks,
    run_together,
)

pytestmark = postgres_only_marks()


def warm_up():
    """One order before the race, so settings rows created on first use already exist."""
    OrderSettings.current()
    buyer = make_buyer()
    checkout.place_order(buyer, [(make_product(stock=5).skus.get().pk, 1)], address_id=make_address(buyer).pk)


def test_buyers_racing_for_stock_never_oversell():
    """Each transactional test pays for a full flush, so both stock races share one test."""
    warm_up()

    # 1. Fifty buyers, one unit each, ten in stock.
    sku = make_product("限量球鞋", price=69900, stock=10).skus.get()
    clients = [(api_for(b), make_address(b).pk) for b in (make_buyer() for _ in range(50))]

    def buy_one(i):
        client, address_id = clients[i]
        return client.post(
            "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": address_id}
        )

    replies = run_together(50, buy_one)

    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    placed = [r for r in replies if r.status_code == 201]
    refused = [r for r in replies if r.status_code != 201]
    assert len(placed) == 10
    assert len(refused) == 40
    assert {(r.status_code, r.json()["code"]) for r in refused} == {(409, "STOCK_INSUFFICIENT")}
    assert all("库存不足" in r.json()["message"] for r in refused)
    assert Sku.objects.get(pk=sku.pk).stock == 0
    lines = OrderLine.objects.filter(sku=sku)
    assert lines.count() == 10
    assert sum(lines.values_list("quantity", flat=True)) == 10
    # Ten different buyers, one order each, and every order really exists.
    assert len({r.json()["number"] for r in placed}) == 10
    assert Order.objects.filter(lines__sku=sku).values("buyer").distinct().count() == 10

    # 2. Two-line orders, lines listed in either order: all-or-nothing, no deadlock.
    shirt = make_product("衬衫", stock=6).skus.get()
    socks = make_product("袜子", stock=6).skus.get()
    orders_before = Order.objects.count()

    def buy_pair(i):
        client, address_id = clients[i]
        lines = [{"sku_id": shirt.pk, "quantity": 1}, {"sku_id": socks.pk, "quantity": 1}]
        if i % 2:
            lines.reverse()
        return client.post("/checkout", {"lines": lines, "address_id": address_id})

    replies = run_together(24, buy_pair)
    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert sorted(r.status_code for r in replies) == [201] * 6 + [409] * 18
    assert {r.json()["code"] for r in replies if r.status_code == 409} == {"STOCK_INSUFFICIENT"}
    assert (Sku.objects.get(pk=shirt.pk).stock, Sku.objects.get(pk=socks.pk).stock) == (0, 0)
    assert OrderLine.objects.filter(sku=shirt).count() == 6
    assert OrderLine.objects.filter(sku=socks).count() == 6
    assert Order.objects.count() == orders_before + 6


def test_gateway_and_staff_racing_pay_once_and_refund_once(monkeypatch):
    """One order's story: a double-tapped "pay", five simultaneous notifications, then a
    double-clicked approval."""
    from fenxiao.payments import tasks

    sku = make_product(price=2500, stock=10).skus.get()
    buyer = make_buyer()
    client = api_for(buyer)
    number = client.post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 2}], "address_id": make_address(buyer).pk}
    ).json()["number"]

    # 1. The buyer taps "pay" six times at once: one payment is opened, all get it.
    phones = [ApiClient(client.token) for _ in range(6)]  # a test Client per thread
    taps = run_together(6, lambda i: phones[i].post(f"/orders/{number}/pay", {"gateway": "sandbox"}))
    errors = [r for r in taps if isinstance(r, BaseException)]
    assert not errors, errors
    assert [r.status_code for r in taps] == [200] * 6, [r.content for r in taps]
    assert len({r.json()["out_trade_no"] for r in taps}) == 1
    assert all(r.json()["pay_url"] for r in taps)
    assert Payment.objects.count() == SandboxTrade.objects.count() == 1
    pay = taps[0].json()

    # 2. The gateway takes the money; its notification arrives five times at once.
    monkeypatch.setattr(tasks, "deliver_sandbox_notification", lambda out_trade_no: None)
    trade = SandboxGateway().complete_trade(pay["out_trade_no"])
    body, headers = SandboxGateway().build_notification(trade)
    extra = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"
    }

    replies = run_together(
        5,
        lambda i: Client().post(
            "/api/v1/payments/notify/sandbox", body, content_type="application/json", **extra
        ),
    )

    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert [r.status_code for r in replies] == [200] * 5
    assert all(r.json()["code"] == "SUCCESS" for r in replies)
    assert sorted(r.json()["outcome"] for r in replies) == ["accepted"] + ["duplicate"] * 4
    order = Order.objects.get(number=number)
    assert (order.status, order.paid_amount) == ("pending_shipment", 5000)
    assert Payment.objects.filter(order=order, status="succeeded", applied=True).count() == 1
    assert Payment.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.filter(order=order, kind="paid").count() == 1
    assert Product.objects.get(pk=sku.product_id).sales_count == 2
    assert Refund.objects.count() == 0
    assert (
        sorted(PaymentNotification.objects.values_list("outcome", flat=True))
        == ["accepted"] + ["duplicate"] * 4
    )

    # 3. The buyer asks for one unit back; two staff approve it at the same moment.
    line = order.lines.get()
    requested = client.post(
        f"/orders/{number}/after-sales",
        {"kind": "refund_only", "reason": "少发一件", "lines": [{"line_id": line.pk, "quantity": 1}]},
    )
    assert requested.status_code == 201, requested.content
    after_sale_number = requested.json()["number"]
    staff = [api_for(make_staff(perms=["orders.change_aftersale"])) for _ in range(2)]

    replies = run_together(2, lambda i: staff[i].post(f"/staff/after-sales/{after_sale_number}/approve"))

    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors
    assert sorted(r.status_code for r in replies) == [200, 409]
    won = next(r for r in replies if r.status_code == 200).json()
    lost = next(r for r in replies if r.status_code == 409).json()
    assert won["status"] == "refunded"
    assert lost["code"] == "INVALID_STATE_TRANSITION"
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (2500, "succeeded")
    order.refresh_from_db()
    assert (order.refunded_amount, order.status) == (2500, "pending_shipment")
    line.refresh_from_db()
    assert (line.refunded_amount, line.refunded_quantity) == (2500, 1)
    assert SandboxTrade.objects.get().refunded_amount == 2500
    assert AfterSale.objects.get().status == "refunded"
    assert OrderEvent.objects.filter(order=order, kind="after_sale_approved").count() == 1
    assert Sku.objects.get(pk=sku.pk).stock == 9  # one unit back, once
