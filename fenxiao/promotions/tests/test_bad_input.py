"""Bad promotion input through the HTTP API: refused with a 4xx, a code and a Chinese
message, and nothing written — no order, no stock or flash stock taken, no allowance, no
coupon used or claimed, no group seat."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import Order, OrderDiscount, OrderEvent
from fenxiao.promotions.models import (
    BuyerAllowance,
    BuyerCoupon,
    BuyerCouponStatus,
    Coupon,
    GroupBuy,
    GroupMember,
    PromotionItem,
    PromotionUse,
)
from fenxiao.testing import ApiClient, api_for, assert_refused, make_address, make_buyer, make_product

from .factories import give_coupon, make_coupon, make_flash, make_group

pytestmark = pytest.mark.django_db

STOCK = 10
HUGE = 2**63


@pytest.fixture
def shop():
    """A buyer with an address and a ¥50.00 product, stock 10."""
    buyer = make_buyer()
    address = make_address(buyer)
    sku = make_product("帆布包", price=5000, stock=STOCK).skus.get()
    return api_for(buyer), buyer, address, sku


def _body(address, sku, quantity=1, **extra):
    return {"lines": [{"sku_id": sku.pk, "quantity": quantity}], "address_id": address.pk, **extra}


def _preview_body(sku, quantity=1, **extra):
    return {"lines": [{"sku_id": sku.pk, "quantity": quantity}], **extra}


def nothing_written(*skus):
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert OrderDiscount.objects.count() == 0
    assert PromotionUse.objects.count() == 0
    assert BuyerAllowance.objects.filter(quantity__gt=0).count() == 0
    assert GroupMember.objects.count() == 0
    for sku in skus:
        assert Sku.objects.get(pk=sku.pk).stock == STOCK


def _refused_both_ways(client, address, sku, status, code, quantity=1, **choice):
    """The preview and the order itself give the same refusal."""
    assert_refused(client.post("/checkout/preview", _preview_body(sku, quantity, **choice)), status, code)
    return assert_refused(client.post("/checkout", _body(address, sku, quantity, **choice)), status, code)


# --- coupons at checkout ----------------------------------------------------------------------


def test_a_coupon_below_its_minimum(shop):
    client, buyer, address, sku = shop
    copy = give_coupon(buyer, make_coupon(amount=1000, min_spend=10000))
    body = _refused_both_ways(client, address, sku, 400, "COUPON_BELOW_MINIMUM", coupon_id=copy.pk)
    assert "¥100.00" in body["message"] and "¥50.00" in body["message"]
    nothing_written(sku)
    assert BuyerCoupon.objects.get(pk=copy.pk).status == BuyerCouponStatus.UNUSED


def test_an_expired_coupon(shop):
    client, buyer, address, sku = shop
    copy = give_coupon(buyer, make_coupon(amount=1000), days=1, starts_in=timedelta(days=-2))
    _refused_both_ways(client, address, sku, 409, "COUPON_EXPIRED", coupon_id=copy.pk)
    nothing_written(sku)
    assert BuyerCoupon.objects.get(pk=copy.pk).status == BuyerCouponStatus.UNUSED


def test_a_coupon_not_yet_valid(shop):
    client, buyer, address, sku = shop
    copy = give_coupon(buyer, make_coupon(amount=1000), starts_in=timedelta(days=1))
    _refused_both_ways(client, address, sku, 409, "COUPON_NOT_STARTED", coupon_id=copy.pk)
    nothing_written(sku)


def test_a_coupon_used_twice(shop):
    client, buyer, address, sku = shop
    copy = give_coupon(buyer, make_coupon(amount=1000))
    first = client.post("/checkout", _body(address, sku, coupon_id=copy.pk))
    assert first.status_code == 201, first.content
    assert first.json()["total"] == 4000
    _refused_both_ways(client, address, sku, 409, "COUPON_USED", coupon_id=copy.pk)
    assert Order.objects.count() == 1
    assert Sku.objects.get(pk=sku.pk).stock == STOCK - 1
    assert BuyerCoupon.objects.get(pk=copy.pk).order.number == first.json()["number"]


def test_a_coupon_not_in_scope(shop):
    client, buyer, address, sku = shop
    elsewhere = make_product(price=5000)
    copy = give_coupon(buyer, make_coupon(amount=1000, scope="products", products=[elsewhere]))
    _refused_both_ways(client, address, sku, 400, "COUPON_NOT_IN_SCOPE", coupon_id=copy.pk)
    nothing_written(sku)
    assert BuyerCoupon.objects.get(pk=copy.pk).status == BuyerCouponStatus.UNUSED


def test_a_disabled_coupon(shop):
    client, buyer, address, sku = shop
    copy = give_coupon(buyer, make_coupon(amount=1000, is_active=False))
    _refused_both_ways(client, address, sku, 409, "COUPON_UNAVAILABLE", coupon_id=copy.pk)
    nothing_written(sku)


def test_someone_elses_coupon(shop):
    client, _, address, sku = shop
    theirs = give_coupon(make_buyer(), make_coupon(amount=1000))
    _refused_both_ways(client, address, sku, 404, "COUPON_NOT_FOUND", coupon_id=theirs.pk)
    nothing_written(sku)
    assert BuyerCoupon.objects.get(pk=theirs.pk).status == BuyerCouponStatus.UNUSED


def test_a_coupon_that_does_not_exist(shop):
    client, _, address, sku = shop
    _refused_both_ways(client, address, sku, 404, "COUPON_NOT_FOUND", coupon_id=HUGE - 1)
    nothing_written(sku)


# --- flash sales ------------------------------------------------------------------------------


def test_a_flash_purchase_over_the_per_buyer_limit(shop):
    client, buyer, address, sku = shop
    make_flash(sku.product, price=3000, limit=2, quota=5)
    body = _refused_both_ways(client, address, sku, 409, "FLASH_LIMIT_EXCEEDED", quantity=3)
    assert "限购2件" in body["message"]
    nothing_written(sku)
    assert PromotionItem.objects.get().sold == 0


def test_a_flash_purchase_over_the_limit_across_orders(shop):
    client, buyer, address, sku = shop
    make_flash(sku.product, price=3000, limit=2, quota=5)
    assert client.post("/checkout", _body(address, sku, 2)).status_code == 201
    body = _refused_both_ways(client, address, sku, 409, "FLASH_LIMIT_EXCEEDED")
    assert "已购买2件" in body["message"]
    assert Order.objects.count() == 1
    assert PromotionItem.objects.get().sold == 2
    assert BuyerAllowance.objects.get(buyer=buyer).quantity == 2
    assert Sku.objects.get(pk=sku.pk).stock == STOCK - 2


def test_a_flash_purchase_over_the_flash_stock(shop):
    client, buyer, address, sku = shop
    make_flash(sku.product, price=3000, quota=5)
    PromotionItem.objects.update(sold=3)
    body = _refused_both_ways(client, address, sku, 409, "FLASH_SOLD_OUT", quantity=3)
    assert "仅剩2件" in body["message"]
    nothing_written(sku)
    assert PromotionItem.objects.get().sold == 3


# --- group buys -------------------------------------------------------------------------------


def _open_group(sku, *, seats_taken=1, size=2, deadline=None):
    promotion = make_group(sku.product, price=3000, size=size)
    return GroupBuy.objects.create(
        promotion=promotion,
        item=promotion.items.get(),
        leader=make_buyer(),
        size=size,
        seats_taken=seats_taken,
        deadline=deadline or timezone.now() + timedelta(hours=12),
    )


def test_joining_a_full_group(shop):
    client, _, address, sku = shop
    group = _open_group(sku, seats_taken=2)
    _refused_both_ways(client, address, sku, 409, "GROUP_FULL", join_group_id=group.pk)
    nothing_written(sku)
    assert GroupBuy.objects.get().seats_taken == 2


def test_joining_an_expired_group(shop):
    client, _, address, sku = shop
    group = _open_group(sku, deadline=timezone.now() - timedelta(minutes=1))
    _refused_both_ways(client, address, sku, 409, "GROUP_EXPIRED", join_group_id=group.pk)
    nothing_written(sku)
    assert GroupBuy.objects.get().seats_taken == 1


def test_joining_a_group_that_does_not_exist(shop):
    client, _, address, sku = shop
    _refused_both_ways(client, address, sku, 404, "GROUP_NOT_FOUND", join_group_id=HUGE - 1)
    nothing_written(sku)


def test_opening_a_group_in_a_promotion_that_does_not_exist(shop):
    client, _, address, sku = shop
    _refused_both_ways(client, address, sku, 404, "PROMOTION_NOT_FOUND", group_promotion_id=12345)
    nothing_written(sku)
    assert GroupBuy.objects.count() == 0


def test_a_group_buy_of_more_than_one_piece(shop):
    client, _, address, sku = shop
    promotion = make_group(sku.product, price=3000)
    other = make_product(price=5000, stock=STOCK).skus.get()
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 1}, {"sku_id": other.pk, "quantity": 1}],
        "address_id": address.pk,
        "group_promotion_id": promotion.pk,
    }
    assert_refused(client.post("/checkout", body), 400, "GROUP_INVALID")
    nothing_written(sku, other)
    assert GroupBuy.objects.count() == 0


# --- ids out of range or of the wrong type ----------------------------------------------------

BAD_IDS = [0, -1, HUGE, "x", 1.5, [], {}]


@pytest.mark.parametrize("field", ["coupon_id", "group_promotion_id", "join_group_id"])
@pytest.mark.parametrize("value", BAD_IDS)
def test_checkout_refuses_malformed_promotion_ids(shop, field, value):
    client, _, address, sku = shop
    _refused_both_ways(client, address, sku, 422, "INVALID_INPUT", **{field: value})
    nothing_written(sku)
    assert GroupBuy.objects.count() == 0


@pytest.mark.parametrize("value", ["AUTO", "none", "", "5", True, False])
def test_checkout_refuses_a_coupon_that_is_neither_an_id_nor_auto(shop, value):
    client, _, address, sku = shop
    _refused_both_ways(client, address, sku, 422, "INVALID_INPUT", coupon_id=value)
    nothing_written(sku)


def test_opening_and_joining_at_once_is_refused(shop):
    client, _, address, sku = shop
    group = _open_group(sku)
    choice = {"group_promotion_id": group.promotion_id, "join_group_id": group.pk}
    _refused_both_ways(client, address, sku, 422, "INVALID_INPUT", **choice)
    nothing_written(sku)


@pytest.mark.parametrize("value", [0, -1, HUGE, "x"])
def test_claim_refuses_malformed_coupon_ids(value):
    coupon = make_coupon(amount=100)
    assert_refused(api_for(make_buyer()).post(f"/coupons/{value}/claim"), 422, "INVALID_INPUT")
    assert BuyerCoupon.objects.count() == 0
    assert Coupon.objects.get(pk=coupon.pk).issued == 0


@pytest.mark.parametrize("value", [0, -1, HUGE, "x"])
def test_product_promotions_refuse_malformed_product_ids(value):
    assert_refused(ApiClient().get(f"/products/{value}/promotions"), 422, "INVALID_INPUT")


@pytest.mark.parametrize("ids", [[0], [-1], [HUGE], ["x"], [], list(range(1, 52))])
def test_flash_offers_refuse_malformed_product_ids(ids):
    assert_refused(ApiClient().get("/flash-offers", product_ids=ids), 422, "INVALID_INPUT")


def test_flash_sales_refuse_an_unknown_state():
    assert_refused(ApiClient().get("/flash-sales", state="ended"), 422, "INVALID_INPUT")
