"""After-sales on a partly shipped order (部分发货), and a buyer's refund of everything before
shipping: the order never gets stuck in 待发货, units in parcels are never put back on sale
by default, and the money balances to the fen (order, gateway, commission)."""

from datetime import timedelta

import pytest

from fenxiao.catalog.models import Sku
from fenxiao.core.errors import DomainError
from fenxiao.distribution.models import Commission
from fenxiao.distribution.tests.helpers import (
    assert_totals_match_history,
    bound_buyer,
    buy,
    make_distributor,
    sku,
)
from fenxiao.orders.models import AfterSale, AfterSaleLog, Order, OrderEvent, OrderSettings, OrderStatus
from fenxiao.orders.services import after_sales, lifecycle, shipments
from fenxiao.payments.models import SandboxTrade
from fenxiao.testing import api_for, assert_refused, login, make_product, make_staff

from .backend import set_return_address, texts, url

pytestmark = pytest.mark.django_db

POSTAGE = 800


@pytest.fixture
def postage():
    OrderSettings.objects.create(shipping_fee=POSTAGE)


@pytest.fixture
def staff():
    return make_staff(
        "merchant", perms=["orders.change_order", "orders.view_order", "orders.change_aftersale"]
    )


def two_line_order(quantities=(1, 1), distributor=None) -> Order:
    """A bound buyer pays for A (¥60.00 each) and B (¥40.00 each), plus postage if set."""
    a = make_product("台灯", price=6000, stock=10)
    b = make_product("灯泡", price=4000, stock=10)
    buyer = bound_buyer(distributor or make_distributor())
    return buy(buyer, (sku(a), quantities[0]), (sku(b), quantities[1]))


def lines(order):
    return list(order.lines.order_by("pk"))


def stock(line) -> int:
    return Sku.objects.get(pk=line.sku_id).stock


def ship_a(order, staff, quantity=None):
    a, _ = lines(order)
    return shipments.ship_parcel(
        order, staff, carrier="顺丰", tracking_number="SF0001", lines={a.pk: quantity or a.quantity}
    )


def level1(line) -> Commission:
    return Commission.objects.get(order_line=line, level=1)


# --- 1. a refund that leaves nothing to ship ships the order ---------------------------------


def test_refunding_the_unshipped_rest_moves_the_order_to_shipped(postage, staff):
    order = two_line_order()
    a, b = lines(order)
    assert order.paid_amount == 10000 + POSTAGE
    ship_a(order, staff)
    before_b, before_a = stock(b), stock(a)

    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": b.pk}]
    )
    assert (sale.amount, sale.shipping_amount, sale.restock) == (4000, 0, True)
    after_sales.approve(sale, staff)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.shipped_at is not None
    days = OrderSettings.current().auto_complete_days
    assert abs(order.auto_complete_at - (order.shipped_at + timedelta(days=days))) < timedelta(seconds=5)
    assert (order.carrier, order.tracking_number) == ("shunfeng", "SF0001")
    (shipped,) = OrderEvent.objects.filter(order=order, kind="shipped")
    assert shipped.message == "未发货的商品已全部退款，无需再发货，订单已发货（共 1 个包裹）：顺丰速运 SF0001"
    assert shipped.actor_kind == "system"
    # Money: B back to the buyer, the postage kept (A was shipped), A's commission stands.
    assert order.refunded_amount == 4000
    assert SandboxTrade.objects.get().refunded_amount == 4000
    assert level1(b).status == "cancelled" and level1(b).net_amount == 0
    assert level1(a).status == "pending" and level1(a).net_amount == 600
    # B never left: back on sale; A is with the buyer.
    assert (stock(b), stock(a)) == (before_b + 1, before_a)

    # The order now completes on its own, and A's commission is frozen.
    assert lifecycle.auto_complete_orders(order.auto_complete_at + timedelta(minutes=1)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert level1(a).status == "frozen"


def test_the_buyer_and_the_merchant_do_it_through_the_api(postage, staff):
    order = two_line_order()
    a, b = lines(order)
    ship_a(order, staff)
    buyer = api_for(order.buyer)
    reply = buyer.post(
        f"/orders/{order.number}/after-sales",
        {"kind": "refund_only", "reason_code": "not_wanted", "lines": [{"line_id": b.pk}]},
    )
    assert reply.status_code == 201, reply.content
    approved = api_for(staff).post(f"/staff/after-sales/{reply.json()['number']}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "refunded"
    assert buyer.get(f"/orders/{order.number}").json()["status"] == "shipped"

    done = buyer.post(f"/orders/{order.number}/confirm-receipt")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "completed"
    assert level1(a).status == "frozen"
    assert Order.objects.get(pk=order.pk).refunded_amount == 4000


def test_a_fully_refunded_partly_shipped_order_is_shipped_not_cancelled(postage, staff):
    """Everything refunded, part of it already with the buyer: the order is over like a
    shipped one refunded in full, not cancelled (no flash stock or seat comes back)."""
    order = two_line_order()
    a, b = lines(order)
    ship_a(order, staff)
    sale = after_sales.request_after_sale(
        order,
        staff,
        kind="refund_only",
        reason="包裹丢失，全额退款",
        lines=[{"line_id": a.pk}, {"line_id": b.pk}],
        shipping_amount=POSTAGE,
    )
    order.refresh_from_db()
    sale.refresh_from_db()
    assert sale.status == "refunded"
    assert (order.status, order.refunded_amount) == (OrderStatus.SHIPPED, order.paid_amount)
    assert SandboxTrade.objects.get().refunded_amount == order.paid_amount
    assert {level1(a).status, level1(b).status} == {"cancelled"}


def test_the_last_parcel_still_ships_the_order_after_a_refund_of_part_of_it(staff):
    order = two_line_order(quantities=(2, 1))
    a, b = lines(order)
    ship_a(order, staff, quantity=1)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": b.pk}]
    )
    after_sales.approve(sale, staff)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_SHIPMENT  # one A still to ship
    assert shipments.remaining_quantities(order) == {a.pk: 1, b.pk: 0}
    shipments.ship_parcel(order, staff, carrier="中通", tracking_number="ZT0002")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


# --- 1b. returns of what is already in parcels ------------------------------------------------


def test_a_shipped_line_of_a_partly_shipped_order_can_be_returned(staff):
    set_return_address()
    order = two_line_order()
    a, b = lines(order)
    ship_a(order, staff)
    buyer = api_for(order.buyer)
    reply = buyer.post(
        f"/orders/{order.number}/after-sales",
        {"kind": "return_refund", "reason_code": "quality", "lines": [{"line_id": a.pk, "quantity": 1}]},
    )
    assert reply.status_code == 201, reply.content
    number = reply.json()["number"]
    merchant = api_for(staff)
    assert merchant.post(f"/staff/after-sales/{number}/approve").json()["status"] == "awaiting_return"

    # The return concerns only goods already sent: B still ships meanwhile.
    shipped = merchant.post(
        f"/staff/orders/{order.number}/ship", {"carrier": "韵达", "tracking_number": "YD1"}
    )
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["status"] == "shipped"

    before = stock(a)
    back = buyer.post(
        f"/after-sales/{number}/ship-back", {"carrier": "yunda", "tracking_number": "4318000000001"}
    )
    assert back.status_code == 200, back.content
    received = merchant.post(f"/staff/after-sales/{number}/receive", {"restock": True})
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "refunded"
    order.refresh_from_db()
    assert (order.refunded_amount, stock(a)) == (6000, before + 1)
    assert SandboxTrade.objects.get().refunded_amount == 6000
    assert level1(a).status == "cancelled" and level1(b).status == "pending"


def test_batch_shipping_ships_the_rest_while_sent_goods_are_being_returned(staff):
    order = two_line_order()
    a, b = lines(order)
    ship_a(order, staff)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="return_refund", reason_code="quality", lines=[{"line_id": a.pk}]
    )
    assert sale.restock is True
    waybill = shipments.Waybill(order_id=order.pk, carrier="yunda", tracking_number="YD0002")
    assert shipments.ship_orders([waybill], staff) == {}
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED

    # A request on what is still to ship holds the order back, in a batch as one by one.
    other = two_line_order()
    _, b2 = lines(other)
    ship_a(other, staff)
    after_sales.request_after_sale(
        other, other.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": b2.pk}]
    )
    waybill = shipments.Waybill(order_id=other.pk, carrier="yunda", tracking_number="YD0003")
    assert shipments.ship_orders([waybill], staff) == {other.pk: "订单有处理中的售后申请，请先处理售后"}
    with pytest.raises(DomainError) as refused:
        shipments.ship_parcel(other, staff, carrier="韵达", tracking_number="YD0004")
    assert refused.value.code == "ORDER_HAS_OPEN_AFTER_SALE"


def test_a_return_of_goods_not_all_in_parcels_is_refused_with_nothing_written(staff):
    order = two_line_order(quantities=(2, 1))
    a, b = lines(order)
    # Nothing shipped yet: refund only.
    body = assert_refused(
        api_for(order.buyer).post(
            f"/orders/{order.number}/after-sales",
            {"kind": "return_refund", "reason_code": "quality", "lines": [{"line_id": a.pk, "quantity": 1}]},
        ),
        400,
        "AFTER_SALE_INVALID",
    )
    assert "仅退款" in body["message"]
    ship_a(order, staff, quantity=1)
    for line in (a, b):  # one A and the B are not shipped yet
        body = assert_refused(
            api_for(order.buyer).post(
                f"/orders/{order.number}/after-sales",
                {
                    "kind": "return_refund",
                    "reason_code": "quality",
                    "lines": [{"line_id": line.pk, "quantity": 1}],
                },
            ),
            400,
            "RETURN_LINE_NOT_SHIPPED",
        )
        assert "未发货" in body["message"]
    assert not AfterSale.objects.exists()


# --- 2. restock only what never left -----------------------------------------------------------


def test_a_refund_of_shipped_and_unshipped_units_restocks_only_the_unshipped(staff):
    order = two_line_order(quantities=(3, 1))
    a, _ = lines(order)
    ship_a(order, staff, quantity=2)
    before = stock(a)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": a.pk}]
    )
    assert sale.restock is True
    after_sales.approve(sale, staff)
    assert stock(a) == before + 1  # the one unit still in the warehouse, not the two sent


def test_a_refund_only_of_shipped_units_keeps_the_stock(staff):
    order = two_line_order()
    a, _ = lines(order)
    ship_a(order, staff)
    before = stock(a)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="agreed", lines=[{"line_id": a.pk}]
    )
    assert sale.restock is False
    after_sales.approve(sale, staff)
    assert stock(a) == before
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_SHIPMENT  # B still to ship


def test_staff_choose_whether_unshipped_units_go_back_when_approving(staff):
    order = two_line_order()
    a, b = lines(order)
    ship_a(order, staff)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": b.pk}]
    )
    client = login(make_staff("boss", superuser=True))
    page = client.get(url(sale, "approve")).content.decode()
    assert 'name="restock"' in page and "checked" in page
    before = stock(b)
    response = client.post(url(sale, "approve"), {"_confirm": "1"})  # box unticked
    assert response.status_code == 302, texts(response)
    sale.refresh_from_db()
    assert (sale.status, sale.restock, stock(b)) == ("refunded", False, before)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


def test_approve_with_the_box_ticked_restocks_the_unshipped_units(staff):
    order = two_line_order(quantities=(2, 1))
    a, _ = lines(order)
    ship_a(order, staff, quantity=1)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": a.pk}]
    )
    before = stock(a)
    client = login(make_staff("boss", superuser=True))
    response = client.post(url(sale, "approve"), {"_confirm": "1", "restock": "on"})
    assert response.status_code == 302, texts(response)
    assert stock(a) == before + 1


@pytest.mark.parametrize(("body", "restocked"), [(None, 1), ({}, 1), ({"restock": False}, 0)])
def test_the_staff_api_approves_with_or_without_a_restock_choice(staff, body, restocked):
    order = two_line_order()
    _, b = lines(order)
    ship_a(order, staff)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": b.pk}]
    )
    before = stock(b)
    client = api_for(staff)
    reply = (
        client.post(f"/staff/after-sales/{sale.number}/approve", body)
        if body is not None
        else (client.post(f"/staff/after-sales/{sale.number}/approve"))
    )
    assert reply.status_code == 200, reply.content
    assert (reply.json()["status"], stock(b)) == ("refunded", before + restocked)


def test_the_approve_form_offers_no_restock_for_goods_with_the_buyer(staff):
    order = two_line_order()
    a, _ = lines(order)
    ship_a(order, staff)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="agreed", lines=[{"line_id": a.pk}]
    )
    page = login(make_staff("boss", superuser=True)).get(url(sale, "approve")).content.decode()
    assert 'name="restock"' not in page


# --- 3. refunding everything before shipping closes the order like a cancellation ------------


def coupon_order(buyer):
    from fenxiao.promotions.tests.factories import give_coupon, make_coupon

    owned = give_coupon(buyer, make_coupon(amount=1000, name="十元券"))
    a = make_product("台灯", price=6000, stock=10)
    b = make_product("灯泡", price=4000, stock=10)
    order = buy(buyer, (sku(a), 1), (sku(b), 1))
    owned.refresh_from_db()
    assert owned.status == "used" and order.discount_amount == 1000
    return order, owned


def test_a_buyer_refunding_every_line_before_shipping_gets_the_postage_and_the_order_closes(postage, staff):
    buyer = bound_buyer(make_distributor())
    order, owned = coupon_order(buyer)
    assert order.paid_amount == 9000 + POSTAGE
    a, b = lines(order)
    before = stock(a), stock(b)

    client = api_for(buyer)
    reply = client.post(
        f"/orders/{order.number}/after-sales",
        {"kind": "refund_only", "reason_code": "not_wanted", "lines": [{"line_id": a.pk}, {"line_id": b.pk}]},
    )
    assert reply.status_code == 201, reply.content
    assert (reply.json()["amount"], reply.json()["shipping_amount"]) == (order.paid_amount, POSTAGE)
    approved = api_for(staff).post(f"/staff/after-sales/{reply.json()['number']}/approve")
    assert approved.status_code == 200, approved.content

    order.refresh_from_db()
    owned.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.refunded_amount == order.paid_amount
    assert SandboxTrade.objects.get().refunded_amount == order.paid_amount
    assert (stock(a), stock(b)) == (before[0] + 1, before[1] + 1)
    assert owned.status == "unused"  # the coupon is the buyer's again, as on a cancellation
    assert {level1(a).status, level1(b).status} == {"cancelled"}
    assert OrderEvent.objects.filter(order=order, kind="cancelled").count() == 1


def test_the_storefront_form_refunds_the_postage_with_the_last_lines(postage):
    order = two_line_order()
    a, b = lines(order)
    browser = login(order.buyer)
    first = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": a.pk}]
    )
    assert first.shipping_amount == 0  # B still ships: the postage stays
    after_sales.approve(first, make_staff())
    response = browser.post(
        f"/orders/{order.number}/after-sale/",
        {"kind": "refund_only", "reason_code": "not_wanted", f"line_{b.pk}": "1"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    last = AfterSale.objects.exclude(pk=first.pk).get()
    assert (last.amount, last.shipping_amount) == (4000 + POSTAGE, POSTAGE)
    after_sales.approve(last, make_staff("boss"))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.CANCELLED, order.paid_amount)
    assert SandboxTrade.objects.get().refunded_amount == order.paid_amount


def test_a_flash_sale_order_refunded_line_by_line_gives_back_the_buyers_allowance(postage, staff):
    from fenxiao.promotions.models import BuyerAllowance, PromotionItem
    from fenxiao.promotions.tests.factories import make_flash

    lamp = make_product("台灯", price=6000, stock=10)
    flash = make_flash(lamp, price=5000, quota=5, limit=1)
    buyer = bound_buyer(make_distributor())
    order = buy(buyer, (sku(lamp), 1))
    assert PromotionItem.objects.get(promotion=flash).sold == 1
    (line,) = lines(order)
    sale = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": line.pk}]
    )
    assert sale.amount == order.paid_amount
    after_sales.approve(sale, staff)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.CANCELLED, order.paid_amount)
    assert PromotionItem.objects.get(promotion=flash).sold == 0
    assert BuyerAllowance.objects.get(promotion=flash, buyer=buyer).quantity == 0


def test_a_partial_refund_before_shipping_keeps_the_postage_and_the_order_open(postage, staff):
    order = two_line_order()
    a, _ = lines(order)
    sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": a.pk}]
    )
    assert (sale.amount, sale.shipping_amount) == (6000, 0)
    after_sales.approve(sale, staff)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (OrderStatus.PENDING_SHIPMENT, 6000)


def test_nothing_left_to_ship_on_an_unshipped_order_closes_it_even_for_less_than_paid(postage, staff):
    """Staff refund every unit for less than was paid (a deduction agreed with the buyer):
    nothing is left to ship, so the order is closed rather than waiting in 待发货."""
    order = two_line_order()
    a, b = lines(order)
    sale = after_sales.request_after_sale(
        order,
        staff,
        kind="refund_only",
        reason="协商扣除部分款项",
        lines=[
            {"line_id": a.pk, "quantity": 1, "amount": 5000},
            {"line_id": b.pk, "quantity": 1, "amount": 3000},
        ],
    )
    order.refresh_from_db()
    assert sale.shipping_amount == POSTAGE  # nothing ships: the postage always goes back
    assert (order.status, order.refunded_amount) == (OrderStatus.CANCELLED, 8000 + POSTAGE)
    assert order.events.get(kind="cancelled").message == "未发货订单商品已全部退款，订单已关闭"
    with pytest.raises(DomainError):
        shipments.ship_parcel(order, staff, carrier="顺丰", tracking_number="SF9")
    # Nothing was sold: no commission is owed on the ¥20 kept, none stays pending for ever.
    commissions = Commission.objects.filter(order=order)
    assert commissions.exists()
    assert {(c.status, c.net_amount) for c in commissions} == {("cancelled", 0)}
    assert_totals_match_history(*{c.distributor for c in commissions})


def test_a_cancel_that_loses_the_race_to_a_parcel_refunds_and_restocks_nothing(staff):
    order = two_line_order()
    a, _ = lines(order)
    before = stock(a)
    # The cancel read the order before the parcel left, and takes the lock after it.
    ship_a(order, staff)

    with pytest.raises(DomainError) as refused:
        after_sales.start_full_refund(order, staff, reason="取消订单")

    assert refused.value.code == "ORDER_PARTLY_SHIPPED"
    order.refresh_from_db()
    assert (order.status, order.refunded_amount, stock(a)) == (OrderStatus.PENDING_SHIPMENT, 0, before)
    assert not AfterSale.objects.filter(order=order).exists()


def test_two_requests_for_the_whole_order_get_the_postage_when_the_last_is_approved(postage, staff):
    order = two_line_order()
    a, b = lines(order)
    first, second = (
        after_sales.request_after_sale(
            order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": line.pk}]
        )
        for line in (a, b)
    )
    # Neither takes every unit on its own: neither asks for the postage yet.
    assert (first.shipping_amount, second.shipping_amount) == (0, 0)
    after_sales.approve(second, staff)
    after_sales.approve(first, staff)

    first.refresh_from_db()
    order.refresh_from_db()
    assert (first.amount, first.shipping_amount) == (6000 + POSTAGE, POSTAGE)
    assert (order.status, order.refunded_amount) == (OrderStatus.CANCELLED, order.paid_amount)
    assert SandboxTrade.objects.get().refunded_amount == order.paid_amount
    assert "运费 ¥8.00 一并退回" in AfterSaleLog.objects.get(after_sale=first, kind="shipping_added").message


def test_a_rejected_sibling_request_leaves_the_postage_with_the_order_still_to_ship(postage, staff):
    order = two_line_order()
    a, b = lines(order)
    first, second = (
        after_sales.request_after_sale(
            order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": line.pk}]
        )
        for line in (a, b)
    )
    after_sales.approve(second, staff)
    after_sales.reject(first, staff, reason="商品可正常发货")

    second.refresh_from_db()
    order.refresh_from_db()
    # A still ships: the merchant keeps the postage that pays for it.
    assert (second.amount, second.shipping_amount) == (4000, 0)
    assert (order.status, order.refunded_amount) == (OrderStatus.PENDING_SHIPMENT, 4000)
    assert shipments.remaining_quantities(order) == {a.pk: 1, b.pk: 0}
