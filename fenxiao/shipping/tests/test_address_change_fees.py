"""Staff changing the address of an order not yet shipped: the goods must be delivered
there, and an unpaid order's shipping follows the new province."""

import pytest

from fenxiao.core.errors import InvalidTransition
from fenxiao.orders.models import DiscountKind, Order, OrderDiscount
from fenxiao.orders.services import checkout, lifecycle
from fenxiao.shipping.errors import RegionUndeliverable
from fenxiao.testing import make_address, make_buyer, make_staff

pytestmark = pytest.mark.django_db

XINJIANG = {
    "recipient": "阿依古丽",
    "phone": "13912345678",
    "province": "新疆维吾尔自治区",
    "city": "乌鲁木齐市",
    "district": "天山区",
    "detail": "人民路 1 号",
}
HONG_KONG = {
    "recipient": "陈大文",
    "phone": "13912345678",
    "province": "香港特别行政区",
    "city": "香港岛",
    "district": "中西区",
    "detail": "皇后大道中 1 号",
}


def order_of(shop, quantity=3):
    buyer = make_buyer()
    address = make_address(buyer)  # 浙江省
    return checkout.place_order(buyer, [(shop["scarf"].pk, quantity)], address_id=address.pk)


def test_an_unpaid_order_moved_far_pays_the_far_fee(shop):
    order = order_of(shop)
    assert (order.shipping_fee, order.total) == (800 + 500, 9000 + 1300)
    order = lifecycle.change_address(order, make_staff(superuser=True), XINJIANG)
    order.refresh_from_db()
    assert order.province == "新疆维吾尔自治区"
    assert (order.shipping_fee, order.total) == (2000 + 2 * 1000, 9000 + 4000)
    assert [line.paid_amount for line in order.lines.all()] == [9000]  # goods untouched
    assert order.events.filter(kind="price_adjusted").exists()


def test_a_merchants_own_fee_change_is_kept_and_shifted(shop):
    order = order_of(shop)
    staff = make_staff(superuser=True)
    lifecycle.adjust_price(order, staff, discount_amount=0, shipping_fee=300)
    order = lifecycle.change_address(Order.objects.get(pk=order.pk), staff, XINJIANG)
    order.refresh_from_db()
    assert order.shipping_fee == 300 + (4000 - 1300)


def test_a_paid_order_keeps_its_fee_and_free_shipping_keeps_it_free(shop):
    order = order_of(shop)
    order.status = Order.Status.PENDING_SHIPMENT
    order.save(update_fields=["status"])
    lifecycle.change_address(order, make_staff(superuser=True), XINJIANG)
    order.refresh_from_db()
    assert (order.province, order.shipping_fee) == ("新疆维吾尔自治区", 1300)

    waived = order_of(shop)
    OrderDiscount.objects.create(order=waived, kind=DiscountKind.FREE_SHIPPING, name="包邮", amount=1300)
    Order.objects.filter(pk=waived.pk).update(shipping_fee=0, total=9000)
    lifecycle.change_address(Order.objects.get(pk=waived.pk), make_staff(superuser=True), XINJIANG)
    assert Order.objects.get(pk=waived.pk).shipping_fee == 0


def test_an_address_the_goods_are_not_delivered_to_is_refused(shop):
    order = order_of(shop)
    with pytest.raises(RegionUndeliverable):
        lifecycle.change_address(order, make_staff(superuser=True), HONG_KONG)
    order.refresh_from_db()
    assert (order.province, order.shipping_fee) == ("浙江省", 1300)
    assert not order.events.filter(kind="address_changed").exists()


def test_a_shipped_order_keeps_its_address(shop):
    order = order_of(shop)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.SHIPPED)
    with pytest.raises(InvalidTransition):
        lifecycle.change_address(Order.objects.get(pk=order.pk), make_staff(superuser=True), XINJIANG)
