"""After-sale: partial and repeated refunds, returns with restock, withdraw, reject, windows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.catalog.models import Product, Sku
from fenxiao.orders.models import AfterSale, Order, OrderLine, OrderSettings
from fenxiao.orders.tests.backend import set_return_address
from fenxiao.payments.models import Refund, SandboxTrade
from fenxiao.testing import (
    ApiClient,
    api_for,
    assert_refused,
    make_address,
    make_buyer,
    make_product,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return api_for(make_staff(perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]))


def place_paid_order(lines, *, buyer=None) -> tuple[ApiClient, str]:
    """lines: [(sku, quantity)]. The buyer checks out and pays in the sandbox."""
    buyer = buyer or make_buyer()
    client = api_for(buyer)
    address = make_address(buyer)
    placed = client.post(
        "/checkout",
        {"lines": [{"sku_id": sku.pk, "quantity": qty} for sku, qty in lines], "address_id": address.pk},
    )
    assert placed.status_code == 201, placed.content
    number = placed.json()["number"]
    pay = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()
    page = client.client.post(pay["pay_url"].replace("http://testserver", ""), {"action": "pay"})
    assert page.status_code == 200
    assert Order.objects.get(number=number).status == "pending_shipment"
    return client, number


def ship(staff, number):
    reply = staff.post(f"/staff/orders/{number}/ship", {"carrier": "顺丰速运", "tracking_number": "SF1001"})
    assert reply.status_code == 200, reply.content
    return reply.json()


def request(client, number, kind, lines, reason="质量问题"):
    return client.post(f"/orders/{number}/after-sales", {"kind": kind, "reason": reason, "lines": lines})


def approve(staff, after_sale_number):
    reply = staff.post(f"/staff/after-sales/{after_sale_number}/approve")
    assert reply.status_code == 200, reply.content
    return reply.json()


def stock(sku):
    return Sku.objects.get(pk=sku.pk).stock


def test_partial_refunds_by_line_and_amount_then_refusal_above_paid(staff):
    shirt = make_product("衬衫", price=3000, stock=10).skus.get()
    coat = make_product("外套", price=5000, stock=10).skus.get()
    client, number = place_paid_order([(shirt, 2), (coat, 1)])
    ship(staff, number)
    order = Order.objects.get(number=number)
    assert order.paid_amount == 11000
    line_shirt = order.lines.get(sku=shirt)
    line_coat = order.lines.get(sku=coat)
    trade = SandboxTrade.objects.get()

    # 1. One of the two shirts, at an agreed ¥25.00 rather than its ¥30.00.
    reply = request(
        client, number, "refund_only", [{"line_id": line_shirt.pk, "quantity": 1, "amount": 2500}]
    )
    assert reply.status_code == 201, reply.content
    first = reply.json()
    assert (first["status"], first["amount"], first["restock"]) == ("requested", 2500, False)
    assert first["lines"] == [{"order_line_id": line_shirt.pk, "quantity": 1, "amount": 2500}]
    done = approve(staff, first["number"])
    assert done["status"] == "refunded"
    assert done["refunded_at"] is not None
    order.refresh_from_db()
    line_shirt.refresh_from_db()
    trade.refresh_from_db()
    assert order.refunded_amount == 2500
    assert (line_shirt.refunded_amount, line_shirt.refunded_quantity) == (2500, 1)
    assert OrderLine.objects.get(pk=line_coat.pk).refunded_amount == 0
    assert trade.refunded_amount == 2500
    refund = Refund.objects.get(after_sale__number=first["number"])
    assert (refund.amount, refund.status) == (2500, "succeeded")
    assert order.status == "shipped"
    assert stock(shirt) == 8  # refund only: the shirt stays with the buyer

    # 2. The coat in full (amount defaults to what the line paid).
    reply = request(client, number, "refund_only", [{"line_id": line_coat.pk}])
    assert reply.status_code == 201, reply.content
    second = approve(staff, reply.json()["number"])
    assert (second["status"], second["amount"]) == ("refunded", 5000)
    order.refresh_from_db()
    assert order.refunded_amount == 7500
    assert SandboxTrade.objects.get().refunded_amount == 7500

    # 3. More than the shirt line has left (¥60.00 paid − ¥25.00 refunded = ¥35.00).
    before = AfterSale.objects.count()
    body = assert_refused(
        request(client, number, "refund_only", [{"line_id": line_shirt.pk, "amount": 3501}]),
        400,
        "REFUND_EXCEEDS_PAID",
    )
    assert "¥35.00" in body["message"]
    assert AfterSale.objects.count() == before
    assert Order.objects.get(number=number).refunded_amount == 7500

    # 4. Exactly what is left is accepted, and then nothing more can be refunded.
    reply = request(client, number, "refund_only", [{"line_id": line_shirt.pk, "amount": 3500}])
    assert reply.status_code == 201, reply.content
    approve(staff, reply.json()["number"])
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount == 11000
    assert SandboxTrade.objects.get().refunded_amount == 11000
    assert_refused(
        request(client, number, "refund_only", [{"line_id": line_coat.pk, "amount": 1}]),
        400,
        "REFUND_EXCEEDS_PAID",
    )
    assert AfterSale.objects.count() == before + 1

    kinds = [e["kind"] for e in client.get(f"/orders/{number}").json()["events"]]
    assert (
        kinds
        == ["created", "paid", "shipped"] + ["after_sale_requested", "after_sale_approved", "refunded"] * 3
    )


def test_staff_refund_above_paid_is_refused(staff):
    sku = make_product(price=2000, stock=5).skus.get()
    _, number = place_paid_order([(sku, 1)])
    line = Order.objects.get(number=number).lines.get()
    reply = staff.post(
        f"/staff/orders/{number}/refunds",
        {"kind": "refund_only", "reason": "补偿", "lines": [{"line_id": line.pk, "amount": 2001}]},
    )
    assert_refused(reply, 400, "REFUND_EXCEEDS_PAID")
    assert AfterSale.objects.count() == 0
    assert Refund.objects.count() == 0
    assert Order.objects.get(number=number).status == "pending_shipment"


def test_staff_refund_is_approved_at_once(staff):
    sku = make_product(price=2000, stock=5).skus.get()
    _, number = place_paid_order([(sku, 2)])
    ship(staff, number)
    line = Order.objects.get(number=number).lines.get()
    reply = staff.post(
        f"/staff/orders/{number}/refunds",
        {
            "kind": "refund_only",
            "reason": "运输破损补偿",
            "lines": [{"line_id": line.pk, "quantity": 0, "amount": 500}],
        },
    )
    assert reply.status_code == 201, reply.content
    body = reply.json()
    assert (body["status"], body["amount"], body["requested_by"]) == ("refunded", 500, "staff")
    assert Order.objects.get(number=number).refunded_amount == 500
    assert OrderLine.objects.get(pk=line.pk).refunded_quantity == 0


def test_return_refund_on_shipped_order_restocks(staff):
    set_return_address()
    sku = make_product(price=4000, stock=10).skus.get()
    product = Product.objects.get(pk=sku.product_id)
    client, number = place_paid_order([(sku, 3)])
    ship(staff, number)
    assert stock(sku) == 7
    assert Product.objects.get(pk=product.pk).sales_count == 3
    line = Order.objects.get(number=number).lines.get()
    reply = request(client, number, "return_refund", [{"line_id": line.pk, "quantity": 2}])
    assert reply.status_code == 201, reply.content
    assert reply.json()["amount"] == 8000  # two of three units, in proportion
    assert reply.json()["restock"] is True
    assert stock(sku) == 7  # nothing moves until staff approve
    number_as = reply.json()["number"]
    assert approve(staff, number_as)["status"] == "awaiting_return"
    assert (stock(sku), Order.objects.get(number=number).refunded_amount) == (7, 0)  # goods not back yet
    shipped = client.post(
        f"/after-sales/{number_as}/ship-back", {"carrier": "shunfeng", "tracking_number": "SF2001"}
    )
    assert shipped.json()["status"] == "return_shipped", shipped.content
    received = staff.post(f"/staff/after-sales/{number_as}/receive", {"restock": True})
    assert received.json()["status"] == "refunded", received.content
    assert stock(sku) == 9
    assert Product.objects.get(pk=product.pk).sales_count == 1
    order = Order.objects.get(number=number)
    assert (order.refunded_amount, order.status) == (8000, "shipped")


def test_return_refund_needs_a_quantity_and_a_shipped_order(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    line = Order.objects.get(number=number).lines.get()
    assert_refused(
        request(client, number, "return_refund", [{"line_id": line.pk}]), 400, "AFTER_SALE_INVALID"
    )  # not shipped yet: refund only
    ship(staff, number)
    assert_refused(
        request(client, number, "return_refund", [{"line_id": line.pk, "quantity": 0, "amount": 100}]),
        400,
        "AFTER_SALE_INVALID",
    )
    assert_refused(
        request(client, number, "return_refund", [{"line_id": line.pk, "quantity": 2}]),
        400,
        "AFTER_SALE_INVALID",
    )  # more than bought
    assert AfterSale.objects.count() == 0


def test_refund_only_on_shipped_order_keeps_stock(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 2)])
    ship(staff, number)
    line = Order.objects.get(number=number).lines.get()
    reply = request(client, number, "refund_only", [{"line_id": line.pk, "quantity": 1}])
    assert reply.json()["restock"] is False
    approve(staff, reply.json()["number"])
    assert stock(sku) == 8
    assert Order.objects.get(number=number).refunded_amount == 4000


def test_refund_only_before_shipping_restocks_by_default(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 2)])
    line = Order.objects.get(number=number).lines.get()
    reply = request(client, number, "refund_only", [{"line_id": line.pk, "quantity": 1}])
    assert reply.json()["restock"] is True
    approve(staff, reply.json()["number"])
    assert stock(sku) == 9
    assert Order.objects.get(number=number).status == "pending_shipment"  # half refunded


def test_buyer_withdraws_a_request(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    line = Order.objects.get(number=number).lines.get()
    requested = request(client, number, "refund_only", [{"line_id": line.pk}]).json()
    # A second request on the same line while one is open is refused.
    assert_refused(
        request(client, number, "refund_only", [{"line_id": line.pk}]), 409, "AFTER_SALE_ALREADY_OPEN"
    )
    reply = client.post(f"/after-sales/{requested['number']}/withdraw")
    assert reply.status_code == 200, reply.content
    assert reply.json()["status"] == "withdrawn"
    again = client.post(f"/after-sales/{requested['number']}/withdraw")
    assert_refused(again, 409, "INVALID_STATE_TRANSITION")
    order = Order.objects.get(number=number)
    assert (order.refunded_amount, order.status) == (0, "pending_shipment")
    assert Refund.objects.count() == 0
    assert order.events.filter(kind="after_sale_withdrawn").count() == 1
    # With nothing open the order ships, and the buyer may ask again later.
    ship(staff, number)
    assert request(client, number, "refund_only", [{"line_id": line.pk}]).status_code == 201


def test_another_buyer_cannot_withdraw_or_request(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    line = Order.objects.get(number=number).lines.get()
    requested = request(client, number, "refund_only", [{"line_id": line.pk}]).json()
    stranger = api_for(make_buyer())
    assert_refused(stranger.post(f"/after-sales/{requested['number']}/withdraw"), 404, "AFTER_SALE_NOT_FOUND")
    assert_refused(request(stranger, number, "refund_only", [{"line_id": line.pk}]), 404, "ORDER_NOT_FOUND")
    assert stranger.get("/after-sales").json()["count"] == 0
    assert AfterSale.objects.get().status == "requested"
    assert client.get("/after-sales").json()["items"][0]["number"] == requested["number"]


def test_staff_rejects_with_a_reason(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    line = Order.objects.get(number=number).lines.get()
    requested = request(client, number, "refund_only", [{"line_id": line.pk}]).json()
    assert_refused(
        staff.post(f"/staff/after-sales/{requested['number']}/reject", {"reason": ""}), 422, "INVALID_INPUT"
    )
    assert_refused(
        staff.post(f"/staff/after-sales/{requested['number']}/reject", {"reason": "   "}),
        400,
        "AFTER_SALE_INVALID",
    )
    assert AfterSale.objects.get().status == "requested"
    reply = staff.post(
        f"/staff/after-sales/{requested['number']}/reject", {"reason": "商品已使用，不支持退款"}
    )
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert (body["status"], body["reject_reason"]) == ("rejected", "商品已使用，不支持退款")
    assert body["decided_at"] is not None
    order = Order.objects.get(number=number)
    assert order.refunded_amount == 0
    event = order.events.get(kind="after_sale_rejected")
    assert "商品已使用" in event.message
    # Approving a rejected request changes nothing.
    assert_refused(
        staff.post(f"/staff/after-sales/{requested['number']}/approve"), 409, "INVALID_STATE_TRANSITION"
    )
    assert AfterSale.objects.get().status == "rejected"
    assert Refund.objects.count() == 0


def test_open_after_sale_blocks_shipping(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    line = Order.objects.get(number=number).lines.get()
    request(client, number, "refund_only", [{"line_id": line.pk}])
    reply = staff.post(f"/staff/orders/{number}/ship", {"carrier": "顺丰速运", "tracking_number": "SF1"})
    assert_refused(reply, 409, "ORDER_HAS_OPEN_AFTER_SALE")
    order = Order.objects.get(number=number)
    assert (order.status, order.carrier, order.shipped_at) == ("pending_shipment", "", None)


def test_full_refund_of_unshipped_order_closes_it(staff):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 2)])
    line = Order.objects.get(number=number).lines.get()
    reply = request(client, number, "refund_only", [{"line_id": line.pk}])
    approve(staff, reply.json()["number"])
    order = Order.objects.get(number=number)
    assert (order.status, order.refunded_amount) == ("cancelled", 8000)
    assert stock(sku) == 10


def test_after_sale_window_on_completed_orders(staff):
    OrderSettings.objects.create(after_sale_days=15)
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    ship(staff, number)
    assert client.post(f"/orders/{number}/confirm-receipt").json()["status"] == "completed"
    line = Order.objects.get(number=number).lines.get()

    Order.objects.filter(number=number).update(completed_at=timezone.now() - timedelta(days=14, hours=23))
    reply = request(client, number, "refund_only", [{"line_id": line.pk}])
    assert reply.status_code == 201, reply.content
    client.post(f"/after-sales/{reply.json()['number']}/withdraw")

    Order.objects.filter(number=number).update(completed_at=timezone.now() - timedelta(days=15, minutes=1))
    body = assert_refused(
        request(client, number, "refund_only", [{"line_id": line.pk}]), 400, "AFTER_SALE_INVALID"
    )
    assert "15天" in body["message"]
    assert AfterSale.objects.count() == 1
    # The merchant may still refund after the window.
    late = staff.post(
        f"/staff/orders/{number}/refunds",
        {"kind": "refund_only", "reason": "售后关怀", "lines": [{"line_id": line.pk, "amount": 1000}]},
    )
    assert late.status_code == 201, late.content
    assert late.json()["status"] == "refunded"
    assert Order.objects.get(number=number).refunded_amount == 1000


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"line_id": 0}],
        [{"line_id": "x"}],
        [{"line_id": 1, "amount": 0}],
        [{"line_id": 1, "quantity": -1}],
        [{"line_id": 1, "price": 1}],
    ],
)
def test_malformed_after_sale_requests_write_nothing(lines):
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    reply = request(client, number, "refund_only", lines)
    assert 400 <= reply.status_code < 500
    assert reply.json()["code"] in {"INVALID_INPUT", "AFTER_SALE_INVALID"}
    assert AfterSale.objects.count() == 0


def test_unknown_kind_and_missing_reason_are_refused():
    sku = make_product(price=4000, stock=10).skus.get()
    client, number = place_paid_order([(sku, 1)])
    line = Order.objects.get(number=number).lines.get()
    assert_refused(request(client, number, "exchange", [{"line_id": line.pk}]), 422, "INVALID_INPUT")
    assert_refused(
        request(client, number, "refund_only", [{"line_id": line.pk}], reason="  "), 400, "AFTER_SALE_INVALID"
    )
    assert AfterSale.objects.count() == 0


def test_unpaid_order_takes_no_after_sale():
    sku = make_product(price=4000, stock=10).skus.get()
    buyer = make_buyer()
    client = api_for(buyer)
    number = client.post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": make_address(buyer).pk}
    ).json()["number"]
    line = Order.objects.get(number=number).lines.get()
    assert_refused(
        request(client, number, "refund_only", [{"line_id": line.pk}]), 409, "INVALID_STATE_TRANSITION"
    )
    assert AfterSale.objects.count() == 0


def test_an_amount_without_quantity_refunds_and_restocks_only_the_units_it_covers(staff):
    # Two units at ¥96.04, not shipped: a refund goes back on sale by default.
    sku = make_product("保温杯", price=9604, stock=10).skus.get()
    client, number = place_paid_order([(sku, 2)])
    order = Order.objects.get(number=number)
    line = order.lines.get()
    assert (order.paid_amount, stock(sku)) == (19208, 8)

    # ¥50.00 back covers no whole unit: nothing is marked refunded, nothing restocked.
    reply = request(client, number, "refund_only", [{"line_id": line.pk, "amount": 5000}])
    assert reply.status_code == 201, reply.content
    assert reply.json()["lines"] == [{"order_line_id": line.pk, "quantity": 0, "amount": 5000}]
    approve(staff, reply.json()["number"])
    line.refresh_from_db()
    assert (line.refunded_amount, line.refunded_quantity, stock(sku)) == (5000, 0, 8)

    # ¥46.04 more makes ¥96.04 in all: one unit's price, so exactly one unit comes back.
    reply = request(client, number, "refund_only", [{"line_id": line.pk, "amount": 4604}])
    assert reply.status_code == 201, reply.content
    assert reply.json()["lines"][0]["quantity"] == 1
    approve(staff, reply.json()["number"])
    line.refresh_from_db()
    assert (line.refunded_amount, line.refunded_quantity, stock(sku)) == (9604, 1, 9)
    assert Order.objects.get(number=number).status == "pending_shipment"  # one unit still paid for


def test_an_amount_of_one_units_price_on_a_two_unit_line_restocks_one_unit(staff):
    sku = make_product("保温杯", price=9604, stock=10).skus.get()
    client, number = place_paid_order([(sku, 2)])
    line = Order.objects.get(number=number).lines.get()

    reply = request(client, number, "refund_only", [{"line_id": line.pk, "amount": 9604}])
    assert reply.status_code == 201, reply.content
    approve(staff, reply.json()["number"])
    line.refresh_from_db()
    assert (line.refunded_amount, line.refunded_quantity) == (9604, 1)
    assert stock(sku) == 9
    assert Order.objects.get(number=number).status == "pending_shipment"

    # The rest, amount only, takes the last unit.
    reply = request(client, number, "refund_only", [{"line_id": line.pk, "amount": 9604}])
    approve(staff, reply.json()["number"])
    line.refresh_from_db()
    assert (line.refunded_amount, line.refunded_quantity, stock(sku)) == (19208, 2, 10)
    assert Order.objects.get(number=number).status == "cancelled"
