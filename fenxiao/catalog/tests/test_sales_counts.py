"""Sales counts move by whole orders: one statement, never below zero."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fenxiao.catalog.models import Product
from fenxiao.catalog.services.sales import add_sales, remove_sales
from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


def counts(products):
    return [Product.objects.get(pk=p.pk).sales_count for p in products]


def test_one_statement_adds_each_products_own_quantity():
    products = [make_product() for _ in range(4)]
    with CaptureQueriesContext(connection) as ctx:
        add_sales({products[2].pk: 3, products[0].pk: 1, products[1].pk: 7})
    assert len(ctx.captured_queries) == 1
    assert counts(products) == [1, 7, 3, 0]
    add_sales({products[0].pk: 2, products[3].pk: 0})
    assert counts(products) == [3, 7, 3, 0]


def test_removing_never_goes_below_zero_and_leaves_short_counts_alone():
    products = [make_product() for _ in range(3)]
    add_sales({products[0].pk: 5, products[1].pk: 1})
    with CaptureQueriesContext(connection) as ctx:
        remove_sales({products[0].pk: 2, products[1].pk: 4, products[2].pk: 1})
    assert len(ctx.captured_queries) == 1
    assert counts(products) == [3, 1, 0]


def test_nothing_to_count_costs_nothing():
    with CaptureQueriesContext(connection) as ctx:
        add_sales({})
        remove_sales({1: 0})
    assert ctx.captured_queries == []


def test_counted_when_the_transaction_commits_and_never_for_one_rolled_back():
    product = make_product()
    with transaction.atomic():
        add_sales({product.pk: 2})
        assert counts([product]) == [0]  # nothing locked or moved inside the payment
    assert counts([product]) == [2]
    with pytest.raises(RuntimeError), transaction.atomic():
        add_sales({product.pk: 5})
        raise RuntimeError("the payment failed")
    assert counts([product]) == [2]
