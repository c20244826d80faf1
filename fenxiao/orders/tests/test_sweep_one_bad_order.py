"""One unpaid order whose cancellation fails never holds up the timeout sweep: the other
orders of its chunk are cancelled, it stays unpaid for the next run, and the run after the
cause is gone cancels it too."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import Order, OrderEvent, OrderStatus
from fenxiao.orders.services import hooks, sweeps
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db


def test_one_order_that_cannot_be_cancelled_does_not_jam_its_chunk(monkeypatch):
    product = make_product(price=1000, stock=10)
    sku = product.skus.get()
    buyer = make_buyer()
    address = make_address(buyer)
    orders = [place_order(buyer, [(sku.pk, 1)], address_id=address.pk) for _ in range(3)]
    Order.objects.update(pay_deadline=timezone.now() - timedelta(minutes=1))
    bad = orders[1].pk
    real = hooks.orders_cancelled

    def failing(order_ids):
        if bad in order_ids:
            raise RuntimeError("what one order lent cannot be given back")
        real(order_ids)

    monkeypatch.setattr(hooks, "orders_cancelled", failing)
    assert sweeps.cancel_expired_orders() == 2
    status = dict(Order.objects.values_list("pk", "status"))
    assert status == {orders[0].pk: "cancelled", bad: "pending_payment", orders[2].pk: "cancelled"}
    assert not OrderEvent.objects.filter(order_id=bad, kind="cancelled").exists()
    assert Sku.objects.get(pk=sku.pk).stock == 9  # the bad order's unit is still its own

    monkeypatch.setattr(hooks, "orders_cancelled", real)
    assert sweeps.cancel_expired_orders() == 1
    assert Order.objects.get(pk=bad).status == OrderStatus.CANCELLED
    assert Sku.objects.get(pk=sku.pk).stock == 10
