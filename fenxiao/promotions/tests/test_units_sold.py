"""已售 of a promotion item counts the units its orders took, with or without a 活动库存
(quota), and drops when an order is cancelled. An item without a quota keeps no counter:
checkout writes nothing on its row, and the figure is summed from the orders' PromotionUse
rows when the item is read."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.orders.models import Order
from fenxiao.orders.services import lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.promotions.models import PromotionItem
from fenxiao.testing import ApiClient, make_address, make_buyer, make_product, make_staff, pay_in_sandbox

from .factories import make_flash

pytestmark = pytest.mark.django_db


def buy(buyer, product, quantity: int) -> Order:
    address = buyer.addresses.first() or make_address(buyer)
    return place_order(buyer, [(product.skus.get().pk, quantity)], address_id=address.pk)


def shown_sold(client, promotion) -> list[str]:
    """The 已售 cell of each item row on the promotion's backend page, in row order."""
    page = client.get(reverse("admin:promotions_promotion_change", args=[promotion.pk])).content.decode()
    cells = re.findall(r'<td class="[^"]*field-sold(?:_text)?[^"]*"[^>]*>(.*?)</td>', page, re.S)
    # The last row is the blank one that 再添加一个 copies.
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells][:-1]


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def test_sold_counts_items_without_a_quota_and_gives_back_on_cancel(boss):
    free, limited = make_product(price=9900), make_product(price=5000)
    promotion = make_flash(free, price=5900)  # no 活动库存
    PromotionItem.objects.create(promotion=promotion, product=limited, price=3000, quota=10)
    first, second = make_buyer(), make_buyer()

    paid = buy(first, free, 2)
    pay_in_sandbox(paid)
    unpaid = buy(second, free, 1)
    buy(second, limited, 3)
    assert shown_sold(boss, promotion) == ["3", "3"]

    lifecycle.cancel_unpaid(Order.objects.get(pk=unpaid.pk), actor=second, reason="不要了")
    assert shown_sold(boss, promotion) == ["2", "3"]

    sales = ApiClient().get("/flash-sales").json()
    assert [(i["quota"], i["sold"]) for i in sales[0]["items"]] == [(None, 2), (10, 3)]


def test_checkout_writes_no_counter_on_an_item_without_a_quota():
    product = make_product(price=9900)
    make_flash(product, price=5900)
    buyer = make_buyer()
    make_address(buyer)
    with CaptureQueriesContext(connection) as queries:
        buy(buyer, product, 1)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert not [sql for sql in writes if "promotions_promotionitem" in sql], writes


def test_the_promotion_page_reads_every_items_sold_in_one_statement(boss):
    promotion = make_flash(make_product(price=9900), price=5900)
    buy(make_buyer(), promotion.items.get().product, 1)
    for _ in range(4):
        product = make_product(price=9900)
        PromotionItem.objects.create(promotion=promotion, product=product, price=5900)
        buy(make_buyer(), product, 2)
    with CaptureQueriesContext(connection) as queries:
        assert shown_sold(boss, promotion) == ["1", "2", "2", "2", "2"]
    reads = [q["sql"] for q in queries.captured_queries if "promotions_promotionuse" in q["sql"]]
    assert len(reads) == 1, reads
