"""The whole purchase path through the API, as an app or mini-program would drive it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.catalog.models import Product, Sku
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import lifecycle
from fenxiao.payments.models import Payment, PaymentNotification, Refund, SandboxTrade
from fenxiao.testing import (
    ApiClient,
    api_for,
    make_address,
    make_buyer,
    make_product,
    make_staff,
    sms_code_for,
)

pytestmark = pytest.mark.django_db


def pay_in_sandbox(client: ApiClient, number: str) -> dict:
    """Buyer opens the payment, confirms on the sandbox cashier; the gateway notifies."""
    reply = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"})
    assert reply.status_code == 200, reply.content
    pay = reply.json()
    page = client.client.post(pay["pay_url"].replace("http://testserver", ""), {"action": "pay"})
    assert page.status_code == 200
    return pay


def test_register_browse_buy_pay_ship_confirm():
    product = make_product(
        "纯棉T恤", price=4990, stock=5, specs_list=[{"颜色": "白", "尺码": "M"}, {"颜色": "黑", "尺码": "L"}]
    )
    sku_white, sku_black = product.skus.order_by("id")
    OrderSettings.objects.create(shipping_fee=800, free_shipping_threshold=9900)

    anonymous = ApiClient()
    code = sms_code_for("13912345678")
    reply = anonymous.post(
        "/auth/register", {"phone": "13912345678", "password": "Secret#2026", "code": code}
    )
    assert reply.status_code == 201, reply.content
    buyer = ApiClient(reply.json()["token"])

    listing = anonymous.get("/products", q="T恤", sort="price")
    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["items"]] == [product.pk]
    detail = anonymous.get(f"/products/{product.pk}").json()
    assert detail["price_display"] == "¥49.90"
    assert {o["name"] for o in detail["spec_options"]} == {"颜色", "尺码"}

    address = buyer.post(
        "/addresses",
        {
            "recipient": "李四",
            "phone": "13700001111",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "detail": "科技园 1 号",
        },
    )
    assert address.status_code == 201, address.content
    assert buyer.post("/cart/lines", {"sku_id": sku_white.pk, "quantity": 1}).status_code == 201
    cart = buyer.post("/cart/lines", {"sku_id": sku_black.pk, "quantity": 1}).json()
    assert cart["goods_amount"] == 9980

    preview = buyer.post(
        "/checkout/preview",
        {"lines": [{"sku_id": sku_white.pk, "quantity": 1}, {"sku_id": sku_black.pk, "quantity": 1}]},
    ).json()
    assert preview["shipping_fee"] == 0  # 99.80 reaches the free-shipping threshold of 99.00
    assert preview["total"] == 9980

    placed = buyer.post(
        "/checkout",
        {
            "lines": [{"sku_id": sku_white.pk, "quantity": 1}, {"sku_id": sku_black.pk, "quantity": 1}],
            "address_id": address.json()["id"],
            "expected_total": 9980,
            "from_cart": True,
        },
    )
    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["status"] == "pending_payment"
    assert order["total"] == 9980
    assert [line["unit_price"] for line in order["lines"]] == [4990, 4990]
    assert buyer.get("/cart").json()["lines"] == []
    assert Sku.objects.get(pk=sku_white.pk).stock == 4

    waiting = buyer.get(f"/orders/{order['number']}/status").json()
    assert (waiting["status"], waiting["paid"], waiting["amount_due"]) == ("pending_payment", False, 9980)
    pay_in_sandbox(buyer, order["number"])
    # What an app polls on its payment-result screen, then the whole order.
    assert buyer.get(f"/orders/{order['number']}/status").json()["paid"] is True
    paid = buyer.get(f"/orders/{order['number']}").json()
    assert paid["status"] == "pending_shipment"
    assert paid["paid_amount"] == 9980
    assert PaymentNotification.objects.get().outcome == "accepted"

    staff = api_for(make_staff(perms=["orders.change_order", "orders.view_order"]))
    shipped = staff.post(
        f"/staff/orders/{order['number']}/ship", {"carrier": "顺丰速运", "tracking_number": "SF1234567890"}
    )
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["status"] == "shipped"

    done = buyer.post(f"/orders/{order['number']}/confirm-receipt")
    assert done.status_code == 200
    assert done.json()["status"] == "completed"
    events = [e["kind"] for e in buyer.get(f"/orders/{order['number']}").json()["events"]]
    assert events == ["created", "paid", "shipped", "completed"]
    product.refresh_from_db()
    assert product.sales_count == 2


def _order_for(buyer, sku, quantity=1, **kwargs):
    client = api_for(buyer)
    address = make_address(buyer)
    reply = client.post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": quantity}], "address_id": address.pk, **kwargs}
    )
    assert reply.status_code == 201, reply.content
    return client, reply.json()["number"]


def test_buyer_cancels_unpaid_order_and_stock_returns():
    sku = make_product(stock=3).skus.get()
    client, number = _order_for(make_buyer(), sku, 2)
    assert Sku.objects.get(pk=sku.pk).stock == 1
    reply = client.post(f"/orders/{number}/cancel", {"reason": "不想要了"})
    assert reply.status_code == 200
    assert reply.json()["status"] == "cancelled"
    assert Sku.objects.get(pk=sku.pk).stock == 3
    again = client.post(f"/orders/{number}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "INVALID_STATE_TRANSITION"


def test_unpaid_order_times_out_and_restores_stock():
    sku = make_product(stock=3).skus.get()
    client, number = _order_for(make_buyer(), sku, 3)
    client.post(f"/orders/{number}/pay", {"gateway": "sandbox"})
    assert lifecycle.cancel_expired_orders() == 0  # not due yet
    later = timezone.now() + timedelta(minutes=31)
    assert lifecycle.cancel_expired_orders(now=later) == 1
    order = Order.objects.get(number=number)
    assert order.status == "cancelled"
    assert "超时" in order.cancel_reason
    assert Sku.objects.get(pk=sku.pk).stock == 3
    assert Payment.objects.get(order=order).status == "closed"
    assert SandboxTrade.objects.get().status == "closed"


def test_timeout_sweep_applies_a_payment_whose_notification_is_late(monkeypatch):
    from fenxiao.payments.gateways import sandbox

    sku = make_product(stock=3).skus.get()
    client, number = _order_for(make_buyer(), sku, 1)
    pay = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()
    # The gateway took the money but its notification has not arrived.
    monkeypatch.setattr(sandbox, "deliver", lambda url, body, headers: (503, b"down"))
    client.client.post(pay["pay_url"].replace("http://testserver", ""), {"action": "pay"})
    assert Order.objects.get(number=number).status == "pending_payment"
    assert lifecycle.cancel_expired_orders(now=timezone.now() + timedelta(hours=1)) == 0
    order = Order.objects.get(number=number)
    assert order.status == "pending_shipment"
    assert order.paid_amount == order.total


def test_paid_unshipped_order_cancelled_with_full_refund():
    sku = make_product(price=2500, stock=5).skus.get()
    client, number = _order_for(make_buyer(), sku, 2)
    pay_in_sandbox(client, number)
    assert Sku.objects.get(pk=sku.pk).stock == 3
    reply = client.post(f"/orders/{number}/cancel", {"reason": "拍错了"})
    assert reply.status_code == 200, reply.content
    order = reply.json()
    assert order["status"] == "cancelled"
    assert order["refunded_amount"] == order["paid_amount"] == 5000 + 0
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (5000, "succeeded")
    assert SandboxTrade.objects.get().refunded_amount == 5000
    assert Sku.objects.get(pk=sku.pk).stock == 5


def test_cancelling_a_paid_order_refunds_the_shipping_fee_too():
    OrderSettings.objects.create(shipping_fee=1000, free_shipping_threshold=0)
    sku = make_product(price=2500, stock=5).skus.get()
    client, number = _order_for(make_buyer(), sku, 1)
    pay_in_sandbox(client, number)
    order = client.post(f"/orders/{number}/cancel", {"reason": "不要了"}).json()
    assert order["status"] == "cancelled"
    assert order["paid_amount"] == order["refunded_amount"] == 2500 + 1000
    after_sale = client.get("/after-sales").json()["items"][0]
    assert (after_sale["amount"], after_sale["shipping_amount"]) == (3500, 1000)
    assert SandboxTrade.objects.get().refunded_amount == 3500


def test_auto_complete_after_configured_days():
    OrderSettings.objects.create(auto_complete_days=7)
    sku = make_product().skus.get()
    client, number = _order_for(make_buyer(), sku)
    pay_in_sandbox(client, number)
    lifecycle.ship(Order.objects.get(number=number), make_staff(), carrier="中通", tracking_number="ZT1")
    assert lifecycle.auto_complete_orders(now=timezone.now() + timedelta(days=6)) == 0
    assert lifecycle.auto_complete_orders(now=timezone.now() + timedelta(days=7, minutes=1)) == 1
    order = Order.objects.get(number=number)
    assert order.status == "completed"
    assert order.events.last().actor_kind == "system"


def test_merchant_adjusts_price_before_payment():
    sku = make_product(price=3333, stock=10).skus.get()
    product2 = make_product(price=6667, stock=10).skus.get()
    buyer = make_buyer()
    client = api_for(buyer)
    address = make_address(buyer)
    number = client.post(
        "/checkout",
        {
            "lines": [{"sku_id": sku.pk, "quantity": 1}, {"sku_id": product2.pk, "quantity": 1}],
            "address_id": address.pk,
        },
    ).json()["number"]
    first = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()
    staff = api_for(make_staff(perms=["orders.change_order", "orders.view_order"]))
    reply = staff.post(
        f"/staff/orders/{number}/adjust", {"discount_amount": 1001, "shipping_fee": 0, "reason": "老客户优惠"}
    )
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["total"] == 8999
    assert [line["discount_share"] for line in body["lines"]] == [334, 667]
    assert sum(line["paid_amount"] for line in body["lines"]) == 8999
    # The old payment was closed; paying again opens a new one for the new amount.
    assert SandboxTrade.objects.get(out_trade_no=first["out_trade_no"]).status == "closed"
    second = pay_in_sandbox(client, number)
    assert second["amount"] == 8999
    assert Order.objects.get(number=number).status == "pending_shipment"


def test_staff_without_permission_cannot_ship():
    sku = make_product().skus.get()
    client, number = _order_for(make_buyer(), sku)
    pay_in_sandbox(client, number)
    nobody = api_for(make_staff())
    reply = nobody.post(f"/staff/orders/{number}/ship", {"carrier": "顺丰", "tracking_number": "1"})
    assert reply.status_code == 403
    assert reply.json()["code"] == "PERMISSION_DENIED"
    buyer_reply = client.post(f"/staff/orders/{number}/ship", {"carrier": "顺丰", "tracking_number": "1"})
    assert buyer_reply.status_code == 403


def test_buyer_sees_only_own_orders():
    sku = make_product().skus.get()
    _, number = _order_for(make_buyer(), sku)
    stranger = api_for(make_buyer())
    assert stranger.get(f"/orders/{number}").status_code == 404
    assert stranger.get(f"/orders/{number}/status").status_code == 404
    assert stranger.get("/orders").json()["count"] == 0


def test_cancelling_a_paid_order_restocks_a_line_its_discount_made_free():
    """A price adjustment of ¥99.99 on two ¥50 lines leaves one of them at ¥0: it is
    restocked and its sale uncounted like the other."""
    products = [make_product(price=5000, stock=10) for _ in range(2)]
    skus = [p.skus.get() for p in products]
    buyer = make_buyer()
    client = api_for(buyer)
    placed = client.post(
        "/checkout",
        {"lines": [{"sku_id": s.pk, "quantity": 1} for s in skus], "address_id": make_address(buyer).pk},
    )
    number = placed.json()["number"]
    lifecycle.adjust_price(
        Order.objects.get(number=number), make_staff(), discount_amount=9999, shipping_fee=0, reason="赠品"
    )
    pay_in_sandbox(client, number)
    order = Order.objects.get(number=number)
    assert sorted(line.paid_amount for line in order.lines.all()) == [0, 1]

    reply = client.post(f"/orders/{number}/cancel", {"reason": "不要了"})

    assert reply.status_code == 200, reply.content
    assert reply.json()["status"] == "cancelled"
    assert [Sku.objects.get(pk=s.pk).stock for s in skus] == [10, 10]
    assert [p.sales_count for p in Product.objects.filter(pk__in=[p.pk for p in products])] == [0, 0]
    assert all(line.refunded_quantity == 1 for line in order.lines.all())
    assert Refund.objects.get().amount == 1
