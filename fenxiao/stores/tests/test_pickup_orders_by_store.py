"""A chain finds one store's pickup orders: the order list's 待自提 tab (or 配送方式 到店自提)
offers 自提门店, and the store list counts each store's 待自提 orders, opening them. The
order list as usually opened reads no store names."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.orders.services import checkout
from fenxiao.stores.models import Store
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")


@pytest.fixture
def chain():
    sku = make_product(price=5000, stock=50).skus.get()
    lake, station = make_store("湖滨店", stock={sku.pk: 10}), make_store("东站店", stock={sku.pk: 10})
    placed = {}
    for store, count in ((lake, 2), (station, 1)):
        placed[store.name] = []
        for _ in range(count):
            order = checkout.place_order(
                make_buyer(), [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk
            )
            pay_in_sandbox(order, notify=True)
            placed[store.name].append(order.number)
    return {"lake": lake, "station": station, "orders": placed}


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def listed(page) -> list[str]:
    return sorted(order.number for order in page.context["cl"].result_list)


def test_the_pickup_tab_offers_each_store_and_narrows_to_one(boss, chain):
    page = boss.get(ORDERS, {"tab": "pending_pickup"})
    html = page.content.decode()
    assert "自提门店" in html and "湖滨店" in html and "东站店" in html
    page = boss.get(ORDERS, {"tab": "pending_pickup", "pickup_store": chain["lake"].pk})
    assert listed(page) == sorted(chain["orders"]["湖滨店"])


def test_a_store_that_is_no_number_lists_nothing(boss, chain):
    page = boss.get(ORDERS, {"tab": "pending_pickup", "pickup_store": "abc"})
    assert page.status_code == 200
    assert listed(page) == []


def test_the_list_as_usually_opened_reads_no_store_names(boss, chain):
    boss.get(ORDERS)  # warm the session and content types
    with CaptureQueriesContext(connection) as captured:
        page = boss.get(ORDERS)
    assert "自提门店" not in page.content.decode()
    store_table = Store._meta.db_table
    assert not [q for q in captured.captured_queries if f'"{store_table}"' in q["sql"]]


def test_the_store_list_counts_each_stores_waiting_orders_and_opens_them(boss, chain):
    page = boss.get(reverse("admin:stores_store_changelist"))
    html = page.content.decode()
    assert "待自提" in html
    station = chain["station"]
    link = f"/backend/orders/order/?tab=pending_pickup&amp;pickup_store={station.pk}"
    assert f'href="{link}">1</a>' in html
    page = boss.get(link.replace("&amp;", "&"))
    assert listed(page) == chain["orders"]["东站店"]


def test_staff_who_may_not_see_orders_read_the_count_alone(chain):
    clerk = login(make_staff("clerk", perms=["stores.view_store", "stores.change_store"]))
    html = clerk.get(reverse("admin:stores_store_changelist")).content.decode()
    assert "pickup_store=" not in html
