"""Payments of orders holding the same products in opposite line order never deadlock."""

from fenxiao.catalog.models import Product
from fenxiao.orders.services import checkout
from fenxiao.testing import (
    make_address,
    make_buyer,
    make_product,
    pay_in_sandbox,
    postgres_only_marks,
    run_together,
)

pytestmark = postgres_only_marks()


def test_opposite_line_orders_pay_side_by_side():
    products = [make_product(stock=500) for _ in range(3)]
    skus = [p.skus.get().pk for p in products]
    orders = []
    for i in range(12):
        buyer = make_buyer()
        lines = [(sku, 1) for sku in (skus if i % 2 else list(reversed(skus)))]
        orders.append(checkout.place_order(buyer, lines, address_id=make_address(buyer).pk))
    results = run_together(len(orders), lambda i: pay_in_sandbox(orders[i]))
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert list(
        Product.objects.filter(pk__in=[p.pk for p in products]).values_list("sales_count", flat=True)
    ) == [
        12,
        12,
        12,
    ]


def test_a_payment_in_progress_holds_no_product_row():
    from django.db import transaction

    from fenxiao.catalog.services.sales import add_sales

    product = make_product()

    def lock_nowait(_i):
        with transaction.atomic():
            return Product.objects.select_for_update(nowait=True).get(pk=product.pk).sales_count

    with transaction.atomic():
        add_sales({product.pk: 3})
        assert run_together(1, lock_nowait) == [0]  # another payment would not wait on it
    assert Product.objects.get(pk=product.pk).sales_count == 3
