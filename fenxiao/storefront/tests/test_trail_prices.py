"""我的足迹 prices a product as the product list does: its running 限时折扣 price with the
regular price struck through, else its price with a higher list price struck through; at a
query count that does not grow with the rows."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.promotions.tests.factories import make_flash
from fenxiao.testing import make_buyer, make_category, make_product

pytestmark = pytest.mark.django_db


def signed_in(buyer) -> Client:
    client = Client()
    client.force_login(buyer)
    return client


def browse(client, *products):
    for product in products:
        assert client.get(f"/products/{product.pk}/").status_code == 200


def test_the_trail_shows_the_flash_price_the_product_list_shows():
    category = make_category("收纳")
    box = make_product("收纳箱", category=category, price=12900, list_price=19900)
    make_flash(box, price=10320, name="新品尝鲜")
    cup = make_product("保温杯", category=category, price=8900, list_price=12900)
    client = signed_in(make_buyer())
    browse(client, box, cup)

    listed = client.get(f"/categories/?c={category.pk}").content.decode()
    trail = client.get("/me/trail/").content.decode()
    for html in (listed, trail):
        assert '¥103.20<span class="strike">¥129.00</span>' in html
        assert '¥89.00<span class="strike">¥129.00</span>' in html
    assert "¥199.00" not in trail


def test_the_trail_page_stays_flat_with_flash_sales(django_assert_max_num_queries):
    client = signed_in(make_buyer())
    first = make_product()
    make_flash(first, discount_bp=2000)
    browse(client, first)
    client.get("/me/trail/")
    with CaptureQueriesContext(connection) as few:
        client.get("/me/trail/")
    budget = len(few.captured_queries)  # now: the log is read lazily and reset by requests
    more = [make_product() for _ in range(6)]
    for product in more:
        make_flash(product, discount_bp=2000)
    browse(client, *more)
    with django_assert_max_num_queries(budget):
        html = client.get("/me/trail/").content.decode()
    assert html.count('data-testid="trail-item"') == 7 and html.count('class="strike"') == 7
