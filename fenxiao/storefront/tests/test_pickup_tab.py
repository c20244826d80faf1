"""我的订单: a paid pickup order waits under 待自提, not under 待发货 (nothing will be shipped)."""

import pytest

from fenxiao.orders.services import checkout
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_address, make_buyer, make_product, pay_in_sandbox

pytestmark = pytest.mark.django_db


def test_pickup_orders_have_their_own_tab_and_count_under_me(django_assert_max_num_queries):
    sku = make_product("龙井茶", price=8800, stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5})
    buyer = make_buyer()
    address = make_address(buyer)
    pickups = [
        checkout.place_order(buyer, [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
        for _ in range(2)
    ]
    shipped = checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk)
    for order in [*pickups, shipped]:
        pay_in_sandbox(order)
    client = login(buyer)

    me = client.get("/me/").content.decode()
    pickup_link = me.split('data-testid="me-pickup"')[1].split("</a>")[0]
    assert "待自提" in pickup_link and '<span class="count">2</span>' in pickup_link
    shipment_link = me.split('href="/orders/?status=pending_shipment"')[1].split("</a>")[0]
    assert '<span class="count">1</span>' in shipment_link

    with django_assert_max_num_queries(8):
        waiting = client.get("/orders/?status=pickup").content.decode()
    assert waiting.count('href="/orders/') == 2 and shipped.number not in waiting
    assert all(order.number in waiting for order in pickups)
    to_ship = client.get("/orders/?status=pending_shipment").content.decode()
    assert shipped.number in to_ship and not any(order.number in to_ship for order in pickups)
    everything = client.get("/orders/").content.decode()
    assert all(order.number in everything for order in [*pickups, shipped])
