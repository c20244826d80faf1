"""到店自提: store stock taken and restored like online stock, the pickup quote, the code and
its verification (核销)."""

import pytest

from fenxiao.catalog.errors import StockInsufficient
from fenxiao.catalog.models import Sku
from fenxiao.core.errors import InvalidTransition
from fenxiao.orders.models import Order
from fenxiao.orders.services import after_sales, checkout, lifecycle, shipments
from fenxiao.orders.services.sweeps import cancel_expired_orders
from fenxiao.stores.services import pickup, stock
from fenxiao.stores.testing import make_store, make_store_staff, store_stock
from fenxiao.testing import (
    api_for,
    assert_refused,
    make_address,
    make_buyer,
    make_product,
    make_staff,
    pay_in_sandbox,
)

pytestmark = pytest.mark.django_db

# 西湖 and 杭州东站, ~8 km apart; the buyer stands near 西湖.
WEST_LAKE = (30.2590, 120.1480)
EAST_STATION = (30.2905, 120.2130)


def _sku(stock=50, price=5000):
    return make_product(price=price, stock=stock).skus.get()


def _pickup_order(buyer, store, sku, qty=1):
    return checkout.place_order(buyer, [(sku.pk, qty)], fulfilment="pickup", pickup_store_id=store.pk)


def test_store_stock_take_is_all_or_nothing():
    a, b = _sku(), _sku()
    store = make_store(stock={a.pk: 3, b.pk: 1})
    stock.take(store.pk, {a.pk: 2, b.pk: 1})
    assert (store_stock(store, a), store_stock(store, b)) == (1, 0)
    with pytest.raises(StockInsufficient) as refused:
        stock.take(store.pk, {a.pk: 1, b.pk: 1})
    assert refused.value.details["short_sku_ids"] == [b.pk]
    assert (store_stock(store, a), store_stock(store, b)) == (1, 0)  # nothing taken
    stock.restore(store.pk, {a.pk: 2, b.pk: 1})
    assert (store_stock(store, a), store_stock(store, b)) == (3, 1)


def test_a_sku_the_store_does_not_carry_is_refused():
    a, other = _sku(), _sku()
    store = make_store(stock={a.pk: 5})
    with pytest.raises(StockInsufficient):
        stock.take(store.pk, {a.pk: 1, other.pk: 1})
    assert store_stock(store, a) == 5


def test_pickup_quote_lists_only_stores_with_every_line_nearest_first():
    a, b = _sku(), _sku()
    far = make_store("东站店", stock={a.pk: 5, b.pk: 5}, lat=EAST_STATION[0], lng=EAST_STATION[1])
    near = make_store("湖滨店", stock={a.pk: 5, b.pk: 2}, lat=30.2600, lng=120.1650)
    make_store("缺货店", stock={a.pk: 5}, lat=30.2591, lng=120.1481)  # no b at all
    make_store("歇业店", stock={a.pk: 5, b.pk: 5}, is_open=False)
    make_store("不自提店", stock={a.pk: 5, b.pk: 5}, pickup_enabled=False)
    q = checkout.quote([(a.pk, 1), (b.pk, 2)], fulfilment="pickup", location=WEST_LAKE)
    assert [s.name for s in q.pickup_stores] == ["湖滨店", "东站店"]
    assert q.pickup_stores[0].distance_m < q.pickup_stores[1].distance_m
    assert q.shipping_fee == 0
    assert q.pickup_error.code == "PICKUP_STORE_REQUIRED"
    # Three of b: only the far store has them.
    q = checkout.quote([(a.pk, 1), (b.pk, 3)], fulfilment="pickup", pickup_store_id=far.pk)
    assert [s.name for s in q.pickup_stores] == ["东站店"]
    assert q.pickup_store.id == far.pk and q.pickup_error is None
    q = checkout.quote([(a.pk, 1), (b.pk, 3)], fulfilment="pickup", pickup_store_id=near.pk)
    assert q.pickup_store is None and q.pickup_error.code == "PICKUP_UNAVAILABLE"


def test_pickup_order_takes_store_stock_no_fee_and_cancel_restores_it(settings):
    from fenxiao.orders.models import OrderSettings

    OrderSettings.objects.update_or_create(pk=1, defaults={"shipping_fee": 1000})
    sku = _sku(stock=7)
    store = make_store(stock={sku.pk: 4})
    buyer = make_buyer()
    order = _pickup_order(buyer, store, sku, 3)
    assert order.fulfilment == "pickup" and order.pickup_store_id == store.pk
    assert order.shipping_fee == 0 and order.total == 15000
    assert len(order.pickup_code) == 8 and order.pickup_code.isdigit()
    assert order.city == "杭州市" and store.name in order.address_detail
    assert store_stock(store, sku) == 1
    assert Sku.objects.get(pk=sku.pk).stock == 7  # online stock untouched
    lifecycle.cancel(order, buyer)
    assert store_stock(store, sku) == 4
    assert Sku.objects.get(pk=sku.pk).stock == 7
    # A delivery order takes the online stock, not the store's.
    delivery = checkout.place_order(buyer, [(sku.pk, 2)], address_id=make_address(buyer).pk)
    assert delivery.fulfilment == "delivery" and delivery.shipping_fee == 1000
    assert Sku.objects.get(pk=sku.pk).stock == 5 and store_stock(store, sku) == 4


def test_pickup_beyond_store_stock_is_refused_even_with_online_stock():
    sku = _sku(stock=100)
    store = make_store(stock={sku.pk: 1})
    with pytest.raises(Exception) as refused:
        _pickup_order(make_buyer(), store, sku, 2)
    assert refused.value.code == "PICKUP_UNAVAILABLE"
    assert store_stock(store, sku) == 1 and not Order.objects.exists()


def test_expiry_sweep_restores_store_and_online_stock_together():
    from datetime import timedelta

    from django.utils import timezone

    sku = _sku(stock=10)
    s1, s2 = make_store(stock={sku.pk: 5}), make_store(stock={sku.pk: 5})
    buyer = make_buyer()
    orders = [
        _pickup_order(buyer, s1, sku, 2),
        _pickup_order(buyer, s1, sku, 1),
        _pickup_order(buyer, s2, sku, 4),
        checkout.place_order(buyer, [(sku.pk, 3)], address_id=make_address(buyer).pk),
    ]
    assert (store_stock(s1, sku), store_stock(s2, sku), Sku.objects.get(pk=sku.pk).stock) == (2, 1, 7)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        pay_deadline=timezone.now() - timedelta(minutes=1)
    )
    assert cancel_expired_orders() == 4
    assert (store_stock(s1, sku), store_stock(s2, sku), Sku.objects.get(pk=sku.pk).stock) == (5, 5, 10)


def test_refund_with_restock_goes_back_to_the_store():
    sku = _sku(stock=10)
    store = make_store(stock={sku.pk: 5})
    buyer = make_buyer()
    order = _pickup_order(buyer, store, sku, 2)
    pay_in_sandbox(order)
    order.refresh_from_db()
    assert order.status_label == "待自提"
    lifecycle.cancel(order, buyer)  # paid, not picked up: full refund with restock
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert store_stock(store, sku) == 5 and Sku.objects.get(pk=sku.pk).stock == 10


def test_verify_completes_once_and_refuses_wrong_used_and_foreign_codes():
    sku = _sku()
    store, other = make_store(stock={sku.pk: 5}), make_store("另一家店", stock={sku.pk: 5})
    clerk, stranger = make_store_staff(store), make_store_staff(other)
    buyer = make_buyer()
    order = _pickup_order(buyer, store, sku)
    with pytest.raises(Exception) as unpaid:
        pickup.verify(clerk, order.pickup_code)
    assert unpaid.value.message == "该订单尚未付款，不能提货"
    pay_in_sandbox(order)
    with pytest.raises(Exception) as wrong:
        pickup.verify(clerk, "12345")
    assert wrong.value.code == "PICKUP_CODE_INVALID" and "8位数字" in wrong.value.message
    with pytest.raises(Exception) as foreign:
        pickup.verify(stranger, order.pickup_code)
    assert "不是本店的订单" in foreign.value.message and store.name in foreign.value.message
    with pytest.raises(Exception) as nobody:
        pickup.verify(make_buyer(), order.pickup_code)
    assert nobody.value.code == "PERMISSION_DENIED"
    done = pickup.verify(clerk, order.pickup_code)
    assert done.status == "completed" and done.picked_up_at is not None
    assert done.events.filter(kind="completed").count() == 1
    with pytest.raises(Exception) as again:
        pickup.verify(clerk, order.pickup_code)
    assert again.value.code == "PICKUP_CODE_USED" and "已于" in again.value.message
    # Staff with the 核销 permission verify at any store.
    second = _pickup_order(buyer, other, sku)
    pay_in_sandbox(second)
    boss = make_staff(perms=["stores.verify_pickup"])
    assert pickup.verify(boss, second.pickup_code).status == "completed"


def test_picking_up_makes_the_buyer_a_member_of_the_store_without_binding_them():
    from fenxiao.distribution.models import Touch
    from fenxiao.stores.models import MemberSource, StoreMember

    sku = _sku()
    store, other = make_store("湖滨店", stock={sku.pk: 5}), make_store("西溪店", stock={sku.pk: 5})
    buyer = make_buyer()
    first = _pickup_order(buyer, store, sku)
    pay_in_sandbox(first)
    assert not StoreMember.objects.filter(buyer=buyer).exists()  # paying is not coming in
    pickup.verify(make_store_staff(store), first.pickup_code)
    member = StoreMember.objects.get(buyer=buyer)
    assert (member.store, member.source, member.staff, member.is_current) == (
        store,
        MemberSource.PICKUP,
        None,
        True,
    )
    assert not Touch.objects.filter(buyer=buyer).exists()
    # Under 首个门店 (the default) the first store keeps them after a pickup elsewhere.
    later = _pickup_order(buyer, other, sku)
    pay_in_sandbox(later)
    pickup.verify(make_store_staff(other), later.pickup_code)
    current = StoreMember.objects.filter(buyer=buyer, is_current=True)
    assert list(current.values_list("store", flat=True)) == [store.pk]


def test_pickup_orders_are_never_shipped():
    sku = _sku()
    store = make_store(stock={sku.pk: 5})
    order = _pickup_order(make_buyer(), store, sku)
    pay_in_sandbox(order)
    order.refresh_from_db()
    with pytest.raises(InvalidTransition) as refused:
        shipments.ship_rest(order, make_staff(superuser=True), carrier="SF", tracking_number="SF1234567890")
    assert refused.value.code == "ORDER_IS_PICKUP"


def test_delivery_orders_cannot_skip_shipping():
    sku = _sku()
    buyer = make_buyer()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)
    order.refresh_from_db()
    with pytest.raises(InvalidTransition):
        lifecycle.complete_pickup(order)


def test_api_preview_and_place_pickup_order():
    sku = _sku(price=2500)
    store = make_store("湖滨店", stock={sku.pk: 2}, lat=30.26, lng=120.165)
    buyer = make_buyer()
    client = api_for(buyer)
    body = {"lines": [{"sku_id": sku.pk, "quantity": 2}], "fulfilment": "pickup"}
    reply = client.post("/checkout/preview", {**body, "lat": WEST_LAKE[0], "lng": WEST_LAKE[1]})
    assert reply.status_code == 200, reply.content
    data = reply.json()
    assert [s["name"] for s in data["pickup_stores"]] == ["湖滨店"]
    assert data["pickup_stores"][0]["distance_m"] > 0 and data["shipping_fee"] == 0
    assert data["pickup_error"]["code"] == "PICKUP_STORE_REQUIRED"
    assert_refused(client.post("/checkout", body), 409, "PICKUP_STORE_REQUIRED")
    reply = client.post("/checkout", {**body, "pickup_store_id": store.pk, "expected_total": 5000})
    assert reply.status_code == 201, reply.content
    assert reply.json()["fulfilment"] == "pickup" and reply.json()["pickup_code"] == ""  # not paid yet
    assert_refused(client.post("/checkout", {**body, "pickup_store_id": store.pk}), 409, "PICKUP_UNAVAILABLE")
    order = Order.objects.get(number=reply.json()["number"])
    pay_in_sandbox(order)
    shown = client.get(f"/orders/{order.number}").json()
    assert shown["status_display"] == "待自提" and shown["pickup_code"] == order.pickup_code
    assert client.get(f"/orders/{order.number}/status").json()["status_display"] == "待自提"


def test_after_sale_refund_with_restock_goes_back_to_the_store():
    sku = _sku()
    store = make_store(stock={sku.pk: 5})
    buyer = make_buyer()
    order = _pickup_order(buyer, store, sku, 2)
    pay_in_sandbox(order)
    order.refresh_from_db()
    assert store_stock(store, sku) == 3
    line = order.lines.get()
    request = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": line.pk, "quantity": 1}]
    )
    after_sales.approve(request, make_staff(superuser=True))
    assert store_stock(store, sku) == 4
    assert Sku.objects.get(pk=sku.pk).stock == 50


def test_a_pickup_order_completes_only_by_verification():
    from fenxiao.orders.errors import PriceAdjustInvalid

    sku = _sku()
    store = make_store(stock={sku.pk: 5})
    buyer = make_buyer()
    unpaid = _pickup_order(buyer, store, sku)
    staff = make_staff(superuser=True)
    with pytest.raises(PriceAdjustInvalid):
        lifecycle.adjust_price(unpaid, staff, discount_amount=0, shipping_fee=800)
    order = _pickup_order(buyer, store, sku)
    pay_in_sandbox(order)
    order.refresh_from_db()
    with pytest.raises(InvalidTransition) as refused:
        lifecycle.complete(order, actor=buyer)  # the buyer's 确认收货
    assert refused.value.code == "ORDER_IS_PICKUP"
    with pytest.raises(InvalidTransition):
        lifecycle.change_address(order, staff, {})
    order.refresh_from_db()
    assert order.status == "pending_shipment"


def test_the_order_export_says_picked_up_at_the_store():
    from fenxiao.orders.services.exports import ORDER_HEADERS, ORDERS

    sku = _sku()
    store = make_store("湖滨店", stock={sku.pk: 3})
    order = _pickup_order(make_buyer(), store, sku)
    pay_in_sandbox(order)
    pickup.verify(make_store_staff(store), Order.objects.get(pk=order.pk).pickup_code)
    rows = ORDERS.rows(Order.objects.all(), make_staff(superuser=True))
    (row,) = [dict(zip(ORDER_HEADERS, r, strict=True)) for r in rows]
    assert (row["配送方式"], row["运单号"], row["订单运费（元）"].csv) == ("到店自提", "", "0.00")
    assert row["自提时间"] and "湖滨店" in row["详细地址"] + row["收货人"] + row["区/县"]


def test_a_code_typed_in_full_width_digits_opens_its_order():
    """A clerk on a Chinese keyboard in full-width mode types １２３４５６７８: the same code."""
    sku = _sku()
    store = make_store(stock={sku.pk: 5})
    clerk = make_store_staff(store)
    order = _pickup_order(make_buyer(), store, sku)
    pay_in_sandbox(order)
    wide = order.pickup_code.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    assert pickup.find(clerk, f" {wide} ").pk == order.pk
    assert pickup.verify(clerk, wide).status == "completed"
