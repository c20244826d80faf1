"""What the bad-input tests of the order flow share: a shop with one product and a
signed-in buyer (`shop`, made available by `conftest.py`), the request bodies they tamper
with, and the check that nothing was ordered."""

import pytest

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import Order, OrderEvent
from fenxiao.testing import (
    api_for,
    make_address,
    make_buyer,
    make_product,
)

NOTIFY_URL = "/api/v1/payments/notify/sandbox"


def has_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def shop():
    """A buyer with an address, and one product with stock 10 at ¥50.00."""
    buyer = make_buyer()
    address = make_address(buyer)
    sku = make_product("帆布包", price=5000, stock=10).skus.get()
    return api_for(buyer), buyer, address, sku


def nothing_ordered(sku, stock=10):
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert Sku.objects.get(pk=sku.pk).stock == stock


def checkout_body(address, sku, quantity=1, **extra):
    return {"lines": [{"sku_id": sku.pk, "quantity": quantity}], "address_id": address.pk, **extra}
