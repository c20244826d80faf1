"""Races on PostgreSQL (real threads, each on its own connection): store stock and online
stock are never oversold when buyers race for both at once, and one pickup code verified at
two counters at once completes the order once."""

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import Order, OrderEvent, OrderLine, OrderSettings
from fenxiao.orders.services import checkout
from fenxiao.stores.services import pickup
from fenxiao.stores.testing import make_store, make_store_staff, store_stock
from fenxiao.testing import (
    api_for,
    make_address,
    make_buyer,
    make_product,
    pay_in_sandbox,
    postgres_only_marks,
    run_together,
)

pytestmark = postgres_only_marks()


def test_buyers_racing_for_store_and_online_stock_never_oversell():
    OrderSettings.current()
    sku = make_product("限量杯子", price=3900, stock=6).skus.get()
    other = make_product("杯垫", price=900, stock=100).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5, other.pk: 100})
    buyers = [make_buyer() for _ in range(40)]
    clients = [(api_for(b), make_address(b).pk) for b in buyers]

    def buy(i):
        client, address_id = clients[i]
        lines = [{"sku_id": sku.pk, "quantity": 1}, {"sku_id": other.pk, "quantity": 1}]
        if i % 3:
            lines.reverse()  # either line order: no deadlock
        if i % 2:  # half want pickup at the store, half delivery from the warehouse
            return client.post(
                "/checkout", {"lines": lines, "fulfilment": "pickup", "pickup_store_id": store.pk}
            )
        return client.post("/checkout", {"lines": lines, "address_id": address_id})

    replies = run_together(40, buy)
    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    placed = [r for r in replies if r.status_code == 201]
    refused = [r for r in replies if r.status_code != 201]
    pickups = [r for r in placed if r.json()["fulfilment"] == "pickup"]
    deliveries = [r for r in placed if r.json()["fulfilment"] == "delivery"]
    assert len(pickups) == 5 and len(deliveries) == 6
    assert {r.json()["code"] for r in refused} <= {"STOCK_INSUFFICIENT", "PICKUP_UNAVAILABLE"}
    assert store_stock(store, sku) == 0 and Sku.objects.get(pk=sku.pk).stock == 0
    assert store_stock(store, other) == 95 and Sku.objects.get(pk=other.pk).stock == 94
    assert OrderLine.objects.filter(sku=sku).count() == 11
    # Pickup codes are distinct among the open pickups.
    assert len({Order.objects.get(number=r.json()["number"]).pickup_code for r in pickups}) == 5


def test_one_code_verified_twice_at_once_completes_once():
    OrderSettings.current()
    sku = make_product(price=2000, stock=10).skus.get()
    store = make_store(stock={sku.pk: 5})
    clerks = [make_store_staff(store) for _ in range(2)]
    order = checkout.place_order(make_buyer(), [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    pay_in_sandbox(order)

    def verify(i):
        try:
            return pickup.verify(clerks[i % 2], order.pickup_code).status
        except Exception as error:  # the loser's refusal is the answer under test
            return getattr(error, "code", repr(error))

    results = run_together(6, verify)
    assert sorted(results, key=str) == ["PICKUP_CODE_USED"] * 5 + ["completed"], results
    order.refresh_from_db()
    assert order.status == "completed"
    assert OrderEvent.objects.filter(order=order, kind="completed").count() == 1


def test_till_changes_racing_pickups_keep_every_take():
    """The till pushes its sales as changes while buyers take the same store stock for
    pickup, more than there is: every unit leaves once, whichever commits first; a pickup
    is refused or a change is short, and the level never goes below zero."""
    from fenxiao.catalog.errors import StockInsufficient
    from fenxiao.stores.services import stock

    OrderSettings.current()
    sku = make_product("龙井", price=3900, stock=100).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 15})
    buyers = [make_buyer() for _ in range(20)]

    def act(i):
        if i % 2:  # the till sold one, in a push of its own
            return stock.adjust(store.pk, {sku.pk: -1})[sku.pk]
        return checkout.place_order(buyers[i], [(sku.pk, 2)], fulfilment="pickup", pickup_store_id=store.pk)

    results = run_together(20, act)
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, StockInsufficient)]
    assert not unexpected, unexpected[:3]
    placed = [r for r in results if isinstance(r, Order)]
    short = sum(r[1] for r in results if isinstance(r, tuple))
    left = store_stock(store, sku)
    assert left >= 0 and 15 - left == 2 * len(placed) + (10 - short)
    assert OrderLine.objects.filter(sku=sku).count() == len(placed)


def test_pushes_mixing_levels_and_changes_never_deadlock_with_pickups():
    """Pushes that set one SKU and move another, in either order, race pickups taking both:
    every row is locked in id order by both sides, so nothing deadlocks or is lost."""
    from fenxiao.catalog.errors import StockInsufficient
    from fenxiao.stores.services import pos_sync

    OrderSettings.current()
    tea = make_product("龙井", price=3900, stock=100).skus.get()
    cup = make_product("杯", price=900, stock=100).skus.get()
    store = make_store("湖滨店", stock={tea.pk: 50, cup.pk: 50})
    buyers = [make_buyer() for _ in range(20)]

    def act(i):
        if i % 2:
            items = [{"sku_code": tea.code, "stock": 50}, {"sku_code": cup.code, "change": -1}]
            return pos_sync.push_stock(store, items if i % 4 == 1 else items[::-1])
        lines = [(tea.pk, 1), (cup.pk, 1)]
        return checkout.place_order(
            buyers[i], lines if i % 4 else lines[::-1], fulfilment="pickup", pickup_store_id=store.pk
        )

    results = run_together(20, act)
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, StockInsufficient)]
    assert not unexpected, unexpected[:3]
    placed = [r for r in results if isinstance(r, Order)]
    assert len(placed) == 10
    # The cup only moved: 50 less 10 pickups and 10 sales at the till.
    assert store_stock(store, cup) == 50 - 10 - 10
