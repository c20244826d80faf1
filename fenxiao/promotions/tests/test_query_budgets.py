"""Promotions price a basket in a fixed number of queries, however many lines, promotions
or coupons are in play."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.orders.models import OrderSettings
from fenxiao.orders.services import checkout
from fenxiao.testing import make_address, make_buyer, make_category, make_product

from .factories import give_coupon, make_coupon, make_flash, make_spend

pytestmark = pytest.mark.django_db


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


def _shop(n: int, buyer):
    parent = make_category("家居")
    category = make_category("厨房", parent=parent)
    products = [make_product(price=5000 + i, category=category, stock=100) for i in range(n)]
    for product in products[: n // 2]:
        make_flash(product, price=3900, quota=50, limit=5)
    make_spend([(10000, 1000), (30000, 3500, True)], scope="categories", categories=[parent])
    make_spend([(20000, 1500)], scope="products", products=products[:3], stackable=False)
    for amount in (300, 500, 800):
        give_coupon(
            buyer, make_coupon(amount=amount, min_spend=amount * 10, scope="categories", categories=[parent])
        )
    give_coupon(
        buyer, make_coupon(discount_bp=1000, max_discount=2000, scope="products", products=products[:2])
    )
    return [(p.skus.get().pk, 1) for p in products]


def _measure(n: int) -> tuple[int, int]:
    buyer = make_buyer()
    address = make_address(buyer)
    requested = _shop(n, buyer)
    quoted = _queries(lambda: checkout.quote(requested, buyer=buyer, with_images=True))
    placed = _queries(lambda: checkout.place_order(buyer, requested, address_id=address.pk))
    return quoted, placed


def test_pricing_and_placing_are_flat_in_lines_and_promotions():
    # Settings records are created on first use: one plain order first keeps them out.
    OrderSettings.current()
    buyer = make_buyer()
    checkout.place_order(buyer, [(make_product().skus.get().pk, 1)], address_id=make_address(buyer).pk)
    small = _measure(2)
    large = _measure(12)
    assert large == small
    quoted, placed = small
    # catalog (2) + settings + flash items + limits + 满减 (4) + category tree + coupons (3)
    assert quoted <= 13
    # the quote, then stock, order, lines, discounts, events, attribution, flash stock per
    # promotion item and limits — items are few per order; lines are written in bulk
    assert placed <= 40
