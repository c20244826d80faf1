"""The pricing engine to the fen: flash price → 满减 → coupon, spread over the lines."""

from datetime import timedelta

import pytest

from fenxiao.orders.models import OrderDiscount
from fenxiao.orders.services.checkout import place_order, quote
from fenxiao.orders.services.promotions_port import Choice
from fenxiao.promotions import errors
from fenxiao.promotions.models import BuyerCouponStatus, PromotionItem
from fenxiao.testing import make_address, make_buyer, make_category, make_product

from .factories import give_coupon, make_coupon, make_flash, make_spend

pytestmark = pytest.mark.django_db


def _sku(product):
    return product.skus.get()


def test_flash_price_replaces_the_unit_price_and_is_recorded_per_line():
    product = make_product(price=9900)
    make_flash(product, price=5900, name="双12秒杀")
    q = quote([(_sku(product).pk, 2)])
    line = q.lines[0]
    assert (line.original_price, line.unit_price, line.subtotal) == (9900, 5900, 11800)
    assert [(d.kind, d.amount) for d in line.discounts] == [("flash", 8000)]
    assert q.total == 11800


def test_percent_off_flash_rounds_the_discount_down():
    product = make_product(price=999)
    make_flash(product, discount_bp=2000)  # 20% off 9.99 = 1.998 → ¥1.99 off
    assert quote([(_sku(product).pk, 1)]).lines[0].unit_price == 800


def test_flash_before_its_window_leaves_the_normal_price():
    product = make_product(price=9900)
    make_flash(product, price=5900, starts_in=timedelta(hours=2))
    assert quote([(_sku(product).pk, 1)]).lines[0].unit_price == 9900


def test_spend_takes_the_best_tier_and_allocates_by_largest_remainder():
    a, b, c = make_product(price=10001), make_product(price=10001), make_product(price=10001)
    make_spend([(20000, 1500), (30000, 3000)])
    q = quote([(_sku(p).pk, 1) for p in (a, b, c)])
    assert q.discount_amount == 3000
    assert [line.discount_share for line in q.lines] == [1000, 1000, 1000]
    assert sum(line.paid_amount for line in q.lines) == 30003 - 3000


def test_spend_every_x_save_y():
    product = make_product(price=10000)
    make_spend([(10000, 1000)], repeat=True)
    assert quote([(_sku(product).pk, 3)]).discount_amount == 3000


def test_spend_hint_names_what_is_missing():
    product = make_product(price=15000)
    make_spend([(20000, 1500)], name="满200减15")
    q = quote([(_sku(product).pk, 1)])
    assert q.discount_amount == 0
    assert q.hints == ["满200减15：再买 ¥50.00 可减 ¥15.00"]


def test_spend_hint_offers_free_shipping_only_while_it_is_not_yet_waived():
    """满99包邮 / 满200减15包邮: at ¥150 shipping is already free, so the next step is ¥15 off,
    not "可减 ¥15.00、包邮"; a 每满 whose tier waives shipping says so before it is reached."""
    product = make_product(price=15000)
    make_spend([(9900, 0, True), (20000, 1500, True)], name="冬季焕新季")
    assert quote([(_sku(product).pk, 1)]).hints == ["冬季焕新季：再买 ¥50.00 可减 ¥15.00"]
    cheap = make_product(price=5000)
    assert quote([(_sku(cheap).pk, 1)]).hints == ["冬季焕新季：再买 ¥49.00 可包邮"]


def test_every_x_hint_says_free_shipping_until_it_is_reached():
    product = make_product(price=6000)
    make_spend([(10000, 1000, True)], repeat=True, name="每满100减10包邮")
    assert quote([(_sku(product).pk, 1)]).hints == ["每满100减10包邮：再买 ¥40.00 可减 ¥10.00、包邮"]
    assert quote([(_sku(product).pk, 2)]).hints == ["每满100减10包邮：再买 ¥80.00 可减 ¥20.00"]


def test_no_hint_for_a_tier_that_adds_nothing():
    product = make_product(price=15000)
    make_spend([(10000, 1000, True), (20000, 1000, True)], name="满100减10")
    assert quote([(_sku(product).pk, 1)]).hints == []


def test_spend_scope_by_category_includes_children():
    shoes = make_category("鞋")
    sport = make_category("运动鞋", parent=shoes)
    inside, outside = make_product(price=20000, category=sport), make_product(price=20000)
    make_spend([(10000, 1000)], scope="categories", categories=[shoes])
    q = quote([(_sku(inside).pk, 1), (_sku(outside).pk, 1)])
    assert [line.discount_share for line in q.lines] == [1000, 0]


def test_free_shipping_tier_waives_the_fee(settings):
    from fenxiao.orders.models import OrderSettings

    OrderSettings.objects.update_or_create(pk=1, defaults={"shipping_fee": 800})
    product = make_product(price=9900)
    make_spend([(9900, 0, True)], name="满99包邮")
    q = quote([(_sku(product).pk, 1)])
    assert (q.shipping_fee, q.total) == (0, 9900)
    assert q.free_shipping.amount == 800


def test_best_coupon_is_picked_on_top_of_the_spend_and_both_are_stored_per_line():
    buyer = make_buyer()
    a, b = make_product(price=12000), make_product(price=8000)
    make_spend([(20000, 1500)])
    small = give_coupon(buyer, make_coupon(amount=500, name="5元券"))
    big = give_coupon(buyer, make_coupon(amount=1000, min_spend=15000, name="满150减10"))
    q = quote([(_sku(a).pk, 1), (_sku(b).pk, 1)], buyer=buyer)
    assert q.coupon_id == big.pk
    assert q.discount_amount == 2500
    assert [line.discount_share for line in q.lines] == [1500, 1000]
    assert {o.id for o in q.coupon_options if o.usable} == {small.pk, big.pk}
    order = place_order(buyer, [(_sku(a).pk, 1), (_sku(b).pk, 1)], address_id=make_address(buyer).pk)
    assert order.discount_amount == 2500
    rows = OrderDiscount.objects.filter(order=order).order_by("line_id", "kind")
    assert [(r.kind, r.amount) for r in rows] == [
        ("coupon", 600),
        ("spend", 900),
        ("coupon", 400),
        ("spend", 600),
    ]
    big.refresh_from_db()
    assert (big.status, big.order_id) == (BuyerCouponStatus.USED, order.pk)


def test_a_spend_that_does_not_stack_competes_with_the_coupon():
    buyer = make_buyer()
    product = make_product(price=20000)
    make_spend([(20000, 1500)], stackable=False)
    coupon = give_coupon(buyer, make_coupon(amount=2000))
    q = quote([(_sku(product).pk, 1)], buyer=buyer)
    assert (q.coupon_id, q.discount_amount) == (coupon.pk, 2000)
    q = quote([(_sku(product).pk, 1)], buyer=buyer, choice=Choice(coupon=None))
    assert (q.coupon_id, q.discount_amount) == (None, 1500)


def test_percent_coupon_is_capped():
    buyer = make_buyer()
    product = make_product(price=50000)
    copy = give_coupon(buyer, make_coupon(discount_bp=1000, max_discount=3000))
    q = quote([(_sku(product).pk, 1)], buyer=buyer, choice=Choice(coupon=copy.pk))
    assert q.discount_amount == 3000


def test_a_chosen_coupon_below_its_minimum_is_refused():
    buyer = make_buyer()
    product = make_product(price=5000)
    copy = give_coupon(buyer, make_coupon(amount=1000, min_spend=10000))
    with pytest.raises(errors.CouponBelowMinimum):
        quote([(_sku(product).pk, 1)], buyer=buyer, choice=Choice(coupon=copy.pk))


def test_cancelling_gives_back_flash_stock_limit_and_coupon():
    from fenxiao.orders.services.lifecycle import cancel

    buyer = make_buyer()
    product = make_product(price=9900)
    promotion = make_flash(product, price=5900, quota=10, limit=2)
    copy = give_coupon(buyer, make_coupon(amount=500))
    order = place_order(buyer, [(_sku(product).pk, 2)], address_id=make_address(buyer).pk)
    item = PromotionItem.objects.get(promotion=promotion)
    assert item.sold == 2
    with pytest.raises(errors.FlashLimitExceeded):
        quote([(_sku(product).pk, 1)], buyer=buyer)
    cancel(order, buyer)
    item.refresh_from_db()
    copy.refresh_from_db()
    assert item.sold == 0
    assert copy.status == BuyerCouponStatus.UNUSED
    assert quote([(_sku(product).pk, 2)], buyer=buyer).lines[0].unit_price == 5900


def test_a_price_adjustment_keeps_the_promotions_shares_and_records_its_own():
    from fenxiao.orders.services.lifecycle import adjust_price
    from fenxiao.testing import make_staff

    buyer, staff = make_buyer(), make_staff()
    a, b = make_product(price=12000), make_product(price=8000)
    make_spend([(20000, 1500)])
    order = place_order(buyer, [(_sku(a).pk, 1), (_sku(b).pk, 1)], address_id=make_address(buyer).pk)
    assert [line.discount_share for line in order.lines.all()] == [900, 600]
    adjust_price(order, staff, discount_amount=2500, shipping_fee=0)
    lines = list(order.lines.all())
    assert [line.discount_share for line in lines] == [1500, 1000]
    adjust = OrderDiscount.objects.filter(order=order, kind="adjust").order_by("line_id")
    assert [r.amount for r in adjust] == [600, 400]
    adjust_price(order, staff, discount_amount=1500, shipping_fee=0)
    assert [line.discount_share for line in order.lines.all()] == [900, 600]
    assert not OrderDiscount.objects.filter(order=order, kind="adjust").exists()


def test_a_cart_priced_during_the_window_is_refused_after_it():
    from fenxiao.orders.errors import PriceChanged

    buyer = make_buyer()
    product = make_product(price=9900)
    promotion = make_flash(product, price=5900)
    shown = quote([(_sku(product).pk, 1)], buyer=buyer).total
    assert shown == 5900
    promotion.ended_at = promotion.starts_at + timedelta(minutes=1)
    promotion.save()
    with pytest.raises(PriceChanged):
        place_order(buyer, [(_sku(product).pk, 1)], address_id=make_address(buyer).pk, expected_total=shown)


def test_the_timeout_sweep_gives_flash_stock_back():
    from django.utils import timezone

    from fenxiao.orders.models import Order
    from fenxiao.orders.services.sweeps import cancel_expired_orders

    buyer = make_buyer()
    product = make_product(price=9900)
    promotion = make_flash(product, price=5900, quota=5, limit=3)
    order = place_order(buyer, [(_sku(product).pk, 3)], address_id=make_address(buyer).pk)
    Order.objects.filter(pk=order.pk).update(pay_deadline=timezone.now() - timedelta(minutes=1))
    assert cancel_expired_orders() == 1
    item = PromotionItem.objects.get(promotion=promotion)
    assert item.sold == 0
    assert quote([(_sku(product).pk, 3)], buyer=buyer).total == 3 * 5900  # the limit is free again


def test_a_full_refund_of_a_shipped_order_returns_its_coupon():
    from fenxiao.orders.services.after_sales import request_after_sale
    from fenxiao.orders.services.lifecycle import ship
    from fenxiao.testing import make_staff, pay_in_sandbox

    buyer, staff = make_buyer(), make_staff(superuser=True)
    product = make_product(price=9900)
    copy = give_coupon(buyer, make_coupon(amount=1000))
    order = place_order(buyer, [(_sku(product).pk, 1)], address_id=make_address(buyer).pk)
    assert order.total == 8900
    pay_in_sandbox(order)
    order = ship(order, staff, carrier="顺丰", tracking_number="SF1")
    line = order.lines.get()
    request_after_sale(order, staff, kind="refund_only", reason="质量问题", lines=[{"line_id": line.pk}])
    copy.refresh_from_db()
    assert (copy.status, copy.order_id) == (BuyerCouponStatus.UNUSED, None)


def test_the_next_window_change_is_the_soonest_announcement_start_or_close():
    from django.utils import timezone

    from fenxiao.promotions.services import offers

    now = timezone.now()
    assert offers.next_window_change(now) is None
    make_spend([(10000, 1000)])  # not a flash sale: it never changes a window
    assert offers.next_window_change(now) is None
    running = make_flash(make_product(), price=100, hours=5)  # closes in 4 h (started 1 h ago)
    assert offers.next_window_change(now) == running.ends_at
    announced = make_flash(make_product(), price=100, starts_in=timedelta(hours=26))
    announcing = announced.starts_at - timedelta(hours=offers.UPCOMING_WINDOW_HOURS)
    assert offers.next_window_change(now) == announcing
    starting = make_flash(make_product(), price=100, starts_in=timedelta(hours=1))
    assert offers.next_window_change(now) == starting.starts_at
    # Ended early in 10 minutes; one already ended early counts no more.
    early = make_flash(make_product(), price=100, ended_at=now + timedelta(minutes=10))
    make_flash(make_product(), price=100, ended_at=now - timedelta(minutes=1), starts_in=timedelta(minutes=5))
    assert offers.next_window_change(now) == early.ended_at
