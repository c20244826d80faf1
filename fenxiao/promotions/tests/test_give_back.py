"""A cancelled order gives back what it took from a promotion at checkout (flash stock, the
buyer's limit), not what the promotion's settings say now: a quota or a per-buyer limit
the merchant adds or removes after the order never makes a cancellation fail, nor leaves a
counter too high."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from fenxiao.orders.models import Order, OrderStatus
from fenxiao.orders.services import lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.orders.services.sweeps import cancel_expired_orders
from fenxiao.promotions.models import BuyerAllowance, PromotionItem, PromotionUse
from fenxiao.promotions.services import manage, reservations
from fenxiao.testing import make_address, make_buyer, make_product, make_staff

from .factories import make_flash

pytestmark = pytest.mark.django_db


def buy(buyer, product, quantity: int) -> Order:
    address = buyer.addresses.first() or make_address(buyer)
    return place_order(buyer, [(product.skus.get().pk, quantity)], address_id=address.pk)


def set_quota(promotion, quota) -> None:
    """The merchant edits the item's 活动库存 (the admin inline saves through this)."""
    item = promotion.items.get()
    item.quota = quota
    manage.save_promotion(promotion, [item], [], make_staff())


def set_limit(promotion, limit: int) -> None:
    promotion.refresh_from_db()
    promotion.per_buyer_limit = limit
    manage.save_promotion(promotion, list(promotion.items.all()), [], make_staff())


def sold(promotion) -> int:
    return PromotionItem.objects.get(promotion=promotion).sold


def allowance(promotion, buyer) -> int:
    return BuyerAllowance.objects.get(promotion=promotion, buyer=buyer).quantity


def overdue(*orders) -> None:
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        pay_deadline=timezone.now() - timedelta(minutes=1)
    )


def test_a_quota_set_after_the_order_does_not_stop_the_timeout_sweep():
    product = make_product(price=9900, stock=100)
    promotion = make_flash(product, price=5900)
    buyer, other = make_buyer(), make_buyer()
    first = buy(buyer, product, 5)
    assert sold(promotion) == 0  # no quota: nothing taken from it
    set_quota(promotion, 20)
    second = buy(other, product, 2)
    assert sold(promotion) == 2
    overdue(first, second)

    assert cancel_expired_orders() == 2
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    assert sold(promotion) == 0  # the second order's 2 back, nothing for the first


def test_a_limit_set_after_the_order_does_not_break_the_buyers_cancel():
    product = make_product(price=9900, stock=100)
    promotion = make_flash(product, price=5900)
    buyer = make_buyer()
    first = buy(buyer, product, 3)
    set_limit(promotion, 5)
    buy(buyer, product, 1)
    assert allowance(promotion, buyer) == 1

    lifecycle.cancel(Order.objects.get(pk=first.pk), buyer)
    assert Order.objects.get(pk=first.pk).status == OrderStatus.CANCELLED
    assert allowance(promotion, buyer) == 1  # the units the limit counted stay counted
    buy(buyer, product, 4)  # up to the limit, no further
    assert allowance(promotion, buyer) == 5


def test_a_quota_and_a_limit_removed_after_the_order_still_get_their_units_back():
    product = make_product(price=9900, stock=100)
    promotion = make_flash(product, price=5900, quota=10, limit=5)
    buyer = make_buyer()
    order = buy(buyer, product, 3)
    assert (sold(promotion), allowance(promotion, buyer)) == (3, 3)
    set_quota(promotion, None)
    set_limit(promotion, 0)

    lifecycle.cancel(Order.objects.get(pk=order.pk), buyer)
    assert (sold(promotion), allowance(promotion, buyer)) == (0, 0)
    # Put back as they were: the buyer's full limit and the full quota are there again.
    set_limit(promotion, 5)
    set_quota(promotion, 10)
    buy(buyer, product, 5)
    assert (sold(promotion), allowance(promotion, buyer)) == (5, 5)


def test_giving_back_twice_gives_once():
    product = make_product(price=9900, stock=100)
    promotion = make_flash(product, price=5900, quota=10, limit=5)
    buyer = make_buyer()
    keep = buy(buyer, product, 2)
    order = buy(buyer, product, 3)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    reservations.give_back([order.pk])
    reservations.give_back([order.pk])
    assert (sold(promotion), allowance(promotion, buyer)) == (2, 2)
    assert PromotionUse.objects.get(order=keep).released_at is None


def test_a_use_recorded_before_gives_back_by_todays_settings_never_below_zero():
    """Rows written before what was taken was recorded (null) fall back to the settings
    now, and a counter that would go below zero stops at zero."""
    product = make_product(price=9900, stock=100)
    promotion = make_flash(product, price=5900)
    buyer = make_buyer()
    order = buy(buyer, product, 5)
    PromotionUse.objects.filter(order=order).update(stock_taken=None, allowance_taken=None)
    set_quota(promotion, 20)
    set_limit(promotion, 8)
    buy(buyer, product, 1)
    assert (sold(promotion), allowance(promotion, buyer)) == (1, 1)

    lifecycle.cancel(Order.objects.get(pk=order.pk), buyer)
    assert (sold(promotion), allowance(promotion, buyer)) == (0, 0)


def test_the_migration_fills_what_open_uses_took_from_the_settings_now():
    migration = importlib.import_module("fenxiao.promotions.migrations.0003_use_records_what_was_taken")
    product = make_product(price=9900, stock=100)
    make_flash(product, price=5900, quota=10)
    limited = make_flash(make_product(price=9900), price=5900, limit=4)
    buyer = make_buyer()
    a, b = buy(buyer, product, 2), buy(buyer, limited.items.get().product, 3)
    PromotionUse.objects.update(stock_taken=None, allowance_taken=None)

    migration.backfill(apps, None)
    taken = {u.order_id: (u.stock_taken, u.allowance_taken) for u in PromotionUse.objects.all()}
    assert taken == {a.pk: (2, 0), b.pk: (0, 3)}
