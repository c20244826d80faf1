"""门店报表 as a page (not only its service) costs the same queries for a chain of many
stores, staff, members, orders and till sales as for one store: the per-row links to each
store's and each person's page, the role names and the 已离职 marks are built from rows
already read."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.stores.models import OfflineSale
from fenxiao.stores.tests.helpers import guide, make_store, scan
from fenxiao.testing import login, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

URL = "/backend/data/stores/?range=today"


def open_store(name, product, guides=2, till=0):
    store = make_store(name, manager=make_buyer())
    for _ in range(guides):
        staff = guide(store)
        buyer = make_buyer()
        scan(buyer, store, staff)
        buy(buyer, (sku(product), 1))
    if till:
        OfflineSale.objects.create(store=store, sale_no=f"{name}-1", total=till, sold_at=timezone.now())
    return store


def queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        reply = client.get(URL)
    assert reply.status_code == 200
    return len(captured)


def test_the_store_report_page_costs_the_same_queries_for_a_chain():
    product = make_product("礼盒", price=8888)
    open_store("南山店", product, guides=1, till=1000)
    boss = login(make_staff("boss", superuser=True))
    boss.get(URL)  # warm: the session, content types
    few = queries(boss)
    for n in range(4):
        open_store(f"分店{n}", product, till=500 + n)
    many = queries(boss)
    html = re.sub(r"\s+", " ", boss.get(URL).content.decode())
    assert html.count("/backend/stores/store/") >= 5  # every store is on the page, linked
    assert html.count("/backend/stores/storestaff/") >= 9  # and every guide
    assert many == few, (few, many)
