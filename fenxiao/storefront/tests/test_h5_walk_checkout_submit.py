"""确认订单 → 提交订单, tapped twice (a double tap, or a phone re-sending the post on a slow
network): one order, and the second tap lands on that order's payment page. Before, a
buy-now checkout placed two unpaid orders, and a cart checkout sent the second tap to an
empty cart saying 请选择要购买的商品 while the order waited unseen in 待付款."""

import re

import pytest

from fenxiao.orders.models import Order
from fenxiao.orders.services.cart import add_to_cart
from fenxiao.testing import login, make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db


def checkout_form(client, url: str) -> dict:
    """What the 确认订单 page's form posts (its hidden fields)."""
    html = client.get(url).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    assert fields.get("submit_token"), "the form carries a submit token"
    return {"note": "放门口", **fields}


@pytest.fixture
def buyer():
    buyer = make_buyer()
    make_address(buyer)
    return buyer


def test_buy_now_submitted_twice_places_one_order(buyer):
    sku = make_product("龙井茶", price=12800).skus.get()
    client = login(buyer)
    url = f"/checkout/?sku={sku.pk}&qty=1"
    form = checkout_form(client, url)

    first = client.post(url, form)
    second = client.post(url, form)

    order = Order.objects.get(buyer=buyer)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/orders/{order.number}/pay/"
    sku.refresh_from_db()
    assert sku.stock == 99  # taken once


def test_cart_checkout_submitted_twice_goes_to_the_order_not_the_empty_cart(buyer):
    sku = make_product("龙井茶", price=12800).skus.get()
    line = add_to_cart(buyer, sku.pk, 2)
    client = login(buyer)
    url = f"/checkout/?lines={line.pk}"
    form = checkout_form(client, url)

    client.post(url, form)
    second = client.post(url, form)

    order = Order.objects.get(buyer=buyer)
    assert second["Location"] == f"/orders/{order.number}/pay/"


def test_a_refused_submission_can_be_submitted_again(buyer):
    """A post that placed nothing (the price moved) frees its form: the next tap places it."""
    sku = make_product("龙井茶", price=12800).skus.get()
    client = login(buyer)
    url = f"/checkout/?sku={sku.pk}&qty=1"
    form = checkout_form(client, url)

    refused = client.post(url, {**form, "expected_total": "100"})
    assert refused["Location"].startswith("/checkout/")
    assert not Order.objects.filter(buyer=buyer).exists()

    placed = client.post(url, form)
    order = Order.objects.get(buyer=buyer)
    assert placed["Location"] == f"/orders/{order.number}/pay/"


def test_each_checkout_page_has_its_own_token(buyer):
    """Two visits to 确认订单 are two purchases: the second is not mistaken for a repeat."""
    sku = make_product("龙井茶", price=12800).skus.get()
    client = login(buyer)
    url = f"/checkout/?sku={sku.pk}&qty=1"
    client.post(url, checkout_form(client, url))
    client.post(url, checkout_form(client, url))
    assert Order.objects.filter(buyer=buyer).count() == 2
