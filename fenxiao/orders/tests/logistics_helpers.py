"""Shared pieces of the shipping and tracking tests: a paid order of several lines, and the
sandbox tracking service reaching the mall through the test client."""

import pytest
from django.test import Client

from fenxiao.orders.models import Order
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import make_address, make_buyer, make_product, pay_in_sandbox


def paid_order(quantities=(2, 1), buyer=None) -> Order:
    """A paid order with one line per entry of `quantities`, each of its own product."""
    buyer = buyer or make_buyer()
    skus = [make_product(price=1000 * (i + 1), stock=50).skus.get() for i in range(len(quantities))]
    order = place_order(
        buyer,
        [(sku.pk, qty) for sku, qty in zip(skus, quantities, strict=True)],
        address_id=make_address(buyer).pk,
    )
    pay_in_sandbox(order)
    return Order.objects.prefetch_related("lines").get(pk=order.pk)


def in_process_deliver(url: str, body: bytes):
    path = url.split("://", 1)[-1]
    path = path[path.index("/") :]
    response = Client().post(path, body, content_type="application/x-www-form-urlencoded")
    return response.status_code, response.content


@pytest.fixture
def pushes_in_process(monkeypatch):
    """The sandbox tracking service's pushes reach the mall through the test client."""
    from fenxiao.orders.logistics import sandbox

    monkeypatch.setattr(sandbox, "deliver", in_process_deliver)
    return sandbox
