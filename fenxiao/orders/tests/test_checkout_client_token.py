"""An app names each checkout with a client token: the same request sent again (a timeout
and a retry, a double tap, the H5 form posted twice) returns the order the first one
placed — one order, its stock, coupon and store credit taken once. The race of two at once
is in test_checkout_client_token_race."""

import pytest

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import Order
from fenxiao.orders.services import checkout
from fenxiao.testing import api_for, make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db

TOKEN = "0b6f6a1e-6f0f-4f7b-9d1c-3f1f6a1e2b7c"


def body(sku, address, **extra):
    return {"lines": [{"sku_id": sku.pk, "quantity": 2}], "address_id": address.pk, **extra}


def test_the_same_token_again_returns_the_first_order():
    buyer = make_buyer()
    sku = make_product(price=2500, stock=10).skus.get()
    address = make_address(buyer)
    api = api_for(buyer)
    first = api.post("/checkout", body(sku, address, client_token=TOKEN))
    again = api.post("/checkout", body(sku, address, client_token=TOKEN))
    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert Sku.objects.get(pk=sku.pk).stock == 8  # taken once


def test_other_tokens_no_token_and_other_buyers_place_their_own_orders():
    sku = make_product(stock=20).skus.get()
    buyer, other = make_buyer(), make_buyer()
    address = make_address(buyer)
    for token in ("a" * 16, "b" * 16, "", ""):
        checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk, client_token=token)
    checkout.place_order(other, [(sku.pk, 1)], address_id=make_address(other).pk, client_token="a" * 16)
    assert Order.objects.filter(buyer=buyer).count() == 4
    assert Order.objects.filter(buyer=other).count() == 1
    assert Sku.objects.get(pk=sku.pk).stock == 15


def test_a_checkout_that_failed_may_be_sent_again_with_its_token():
    buyer = make_buyer()
    sku = make_product(stock=1).skus.get()
    address = make_address(buyer)
    api = api_for(buyer)
    refused = api.post("/checkout", body(sku, address, client_token=TOKEN))
    assert (refused.status_code, refused.json()["code"]) == (409, "STOCK_INSUFFICIENT")
    Sku.objects.filter(pk=sku.pk).update(stock=5)
    placed = api.post("/checkout", body(sku, address, client_token=TOKEN))
    assert placed.status_code == 201
    assert Order.objects.get(buyer=buyer).client_token == TOKEN


@pytest.mark.parametrize("token", ["含中文", "a b", "x" * 65, "a;drop"])
def test_a_malformed_token_is_refused_in_chinese(token):
    buyer = make_buyer()
    sku = make_product().skus.get()
    reply = api_for(buyer).post("/checkout", body(sku, make_address(buyer), client_token=token))
    assert reply.status_code == 422 and reply.json()["code"] == "INVALID_INPUT"
    assert not Order.objects.exists()
