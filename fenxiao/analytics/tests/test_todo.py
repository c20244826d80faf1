"""The to-do panel on 经营概况: each count equals the rows of the list it links to, each item
shows only to staff who may act on it, and the panel's queries do not grow with the shop."""

import itertools
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.analytics.services import todo
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.distribution.tests.backend import paid_order, staff, world  # noqa: F401
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.testing import login, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

_phones = itertools.count(1)


def buyer():
    # Phones apart from the 1390000000x ones the `world` fixture uses.
    return make_buyer(f"137{next(_phones):08d}")


@pytest.fixture
def shop(world):  # noqa: F811
    """world: one order waiting for shipment, one pending distributor, one withdrawal, one
    settlement batch, one held commission to review and one missing-order claim. Here also:
    a group-buy order still waiting for its group, an after-sale request, and stock running
    low on a listed and on an unlisted product."""
    waiting = paid_order(buyer(), world["sku"])
    Order.objects.filter(pk=waiting.pk).update(awaiting_group=True)
    shipped = paid_order(buyer(), world["sku"])
    lifecycle.ship(shipped, world["a"].user, carrier="顺丰速运", tracking_number="SF1")
    after_sales.request_after_sale(
        shipped,
        shipped.buyer,
        kind="refund_only",
        reason="质量问题",
        lines=[{"line_id": shipped.lines.first().pk}],
    )
    OrderSettings.objects.update(low_stock_threshold=5)
    make_product("袜子", price=1000, stock=4)
    make_product("帽子", price=2000, stock=1, listed=False)
    ensure_staff_groups()
    return world


def member(role):
    user = make_staff(role)
    user.groups.add(Group.objects.get(name=role))
    return user


def counts(user) -> dict:
    return {item.key: item.count for item in todo.for_user(user)}


def test_counts_are_what_the_linked_lists_show(shop):
    boss = make_staff("boss", superuser=True)
    items = todo.for_user(boss)
    assert {i.key: i.count for i in items} == {
        "shipment": 1,  # the group-buy order waiting for its group is not to ship yet
        "after_sales": 1,
        "distributors": 1,
        "withdrawals": 1,
        "risk_reviews": 1,
        "claims": 1,
        "batches": 1,
        "low_stock": 1,  # the unlisted product's SKU is not counted
    }
    client = login(boss)
    for item in items:
        reply = client.get(item.url)
        assert reply.status_code == 200, item.url
        assert reply.context["cl"].result_count == item.count, (item.label, item.url)


def test_the_dashboard_shows_the_counts_with_their_links(shop):
    page = login(make_staff("boss", superuser=True)).get("/backend/")
    assert page.status_code == 200
    html = page.content.decode()
    for label in [
        "待发货",
        "待处理售后",
        "待审核分销商",
        "待审核提现",
        "待审核风控",
        "待处理掉单申诉",
        "待审核结算批次",
        "库存预警",
    ]:
        assert label in html
    shown = dict(re.findall(r'data-todo="(\w+)".*?data-count>(\d+)<', html, re.S))
    keys = [
        "shipment",
        "after_sales",
        "distributors",
        "withdrawals",
        "risk_reviews",
        "claims",
        "batches",
        "low_stock",
    ]
    assert shown == dict.fromkeys(keys, "1")
    assert "stock_below=5" in html and "awaiting_group__exact=0" in html


def test_each_role_sees_what_it_acts_on(shop):
    operations = {"shipment", "after_sales", "distributors", "risk_reviews", "claims", "low_stock"}
    assert set(counts(member(OPERATIONS))) == operations
    assert set(counts(member(FINANCE))) == {"after_sales", "withdrawals", "risk_reviews", "batches"}
    assert counts(make_staff("nobody")) == {}
    page = login(make_staff("nobody")).get("/backend/")
    assert page.status_code == 200
    assert "待办事项" not in page.content.decode()


def test_the_stock_warning_can_be_turned_off(shop):
    OrderSettings.objects.update(low_stock_threshold=0)
    assert "low_stock" not in counts(make_staff("boss", superuser=True))


def test_the_panel_costs_the_same_queries_for_a_bigger_shop(shop):
    boss = make_staff("boss", superuser=True)

    def queries() -> int:
        fresh = type(boss).objects.get(pk=boss.pk)  # no permission cache carried over
        with CaptureQueriesContext(connection) as captured:
            todo.for_user(fresh)
        return len(captured)

    few = queries()
    for _ in range(3):
        paid_order(buyer(), shop["sku"])
    for n in range(3):
        make_product(f"低库存{n}", price=500, stock=0)
    assert counts(boss)["shipment"] == 4
    # One per item (8), the stock threshold, and with no pickup order waiting, whether the
    # shop offers pickup at all (no store here: no 待自提 item).
    assert queries() == few <= 11


def test_pickup_orders_are_not_to_ship_and_a_product_low_on_several_skus_is_one(shop):
    from fenxiao.orders.services import checkout
    from fenxiao.stores.testing import make_store
    from fenxiao.testing import pay_in_sandbox

    # A paid 到店自提 order waits at its store for its code, never for a parcel.
    store = make_store("湖滨店", stock={shop["sku"].pk: 5})
    pickup = checkout.place_order(
        buyer(), [(shop["sku"].pk, 1)], fulfilment="pickup", pickup_store_id=store.pk
    )
    pay_in_sandbox(pickup)
    # Two SKUs of one listed product run low: one product to restock, one row in the list.
    make_product("围巾", price=3000, stock=2, specs_list=[{"颜色": "红"}, {"颜色": "蓝"}])
    boss = make_staff("boss", superuser=True)
    items = {item.key: item for item in todo.for_user(boss)}
    assert (items["shipment"].count, items["low_stock"].count) == (1, 2)
    assert "上架商品中有规格库存低于 5 件的商品" in items["low_stock"].hint
    client = login(boss)
    for item in items.values():
        assert client.get(item.url).context["cl"].result_count == item.count, (item.label, item.url)


def test_pickup_orders_waiting_at_stores_are_a_to_do_of_their_own(shop):
    """A paid 到店自提 order is not 待发货, yet waits on the merchant: 待自提 counts it and
    opens the order list's 待自提 tab with exactly those orders. A shop offering no pickup
    is shown no such item; one that does sees it at 0 too."""
    from fenxiao.orders.services import checkout
    from fenxiao.stores.testing import make_store
    from fenxiao.testing import pay_in_sandbox

    boss = make_staff("boss", superuser=True)
    assert "pickups" not in counts(boss)  # no store offers pickup
    store = make_store("湖滨店", stock={shop["sku"].pk: 5})
    assert counts(boss)["pickups"] == 0
    for _ in range(2):
        order = checkout.place_order(
            buyer(), [(shop["sku"].pk, 1)], fulfilment="pickup", pickup_store_id=store.pk
        )
        pay_in_sandbox(order)
    checkout.place_order(buyer(), [(shop["sku"].pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    items = {item.key: item for item in todo.for_user(boss)}
    assert items["pickups"].count == 2  # the unpaid one waits for payment, not at the store
    assert items["shipment"].count == 1
    client = login(boss)
    assert client.get(items["pickups"].url).context["cl"].result_count == 2
    html = client.get("/backend/").content.decode()
    assert re.search(r'data-todo="pickups".*?待自提.*?data-count>2<', html, re.S)
    # Store staff who may not touch orders are not shown it.
    assert "pickups" not in counts(member(FINANCE))
