"""The distributor's dashboard, the backend list's figures and the rankings cost the same
number of queries whatever the history; commission and ledger lists are paged by key."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.models import Commission, LedgerEntry
from fenxiao.distribution.services import dashboard
from fenxiao.testing import api_for, make_product

from .helpers import (
    assert_totals_match_history,
    bound_buyer,
    buy,
    earn,
    make_distributor,
    receive,
    settle_now,
    sku,
)

pytestmark = pytest.mark.django_db


def captured(fn) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        fn()
    return [q["sql"] for q in context.captured_queries]


def queries(fn) -> int:
    return len(captured(fn))


def api_sql(user, path) -> list[str]:
    api = api_for(user)  # a fresh token: a token records its use at most once a minute

    def call():
        reply = api.get(path)
        assert reply.status_code == 200, reply.content

    return captured(call)


def api_queries(user, path) -> int:
    return len(api_sql(user, path))


def grow(a, b, products, orders: int) -> None:
    """`orders` paid orders of one line per product through b (level 1, a level 2), the
    first completed and settled: len(products) × orders commissions for each of a and b."""
    buyer = bound_buyer(b)
    for i in range(orders):
        order = buy(buyer, *((sku(p), 1) for p in products))
        if i == 0:
            receive(order)
    settle_now()


def test_dashboard_figures_for_page_and_rankings_cost_the_same_for_3_or_300_commissions(chain):
    a, b = chain
    others = [make_distributor(parent=b) for _ in range(3)]
    products = [make_product(price=1000 + i) for i in range(30)]
    grow(a, b, products[:3], 1)
    assert Commission.objects.filter(distributor=b).count() == 3

    def measure():
        return (
            api_queries(b.user, "/distribution/dashboard"),
            queries(lambda: dashboard.figures(b)),
            queries(lambda: dashboard.figures_for_page([a.pk, b.pk, *(d.pk for d in others)])),
            queries(lambda: dashboard.ranking("sales", "month")),
            queries(lambda: dashboard.ranking("commission", "month")),
            api_queries(b.user, "/distribution/rankings?by=commission"),
        )

    few = measure()
    grow(a, b, products, 10)
    assert Commission.objects.filter(distributor=b).count() == 303
    assert_totals_match_history()

    assert measure() == few
    assert few[1] == 3  # the totals row, bound buyers, the team
    assert few[2] == 4  # the totals rows, and one grouped count each for buyers, direct, indirect
    assert few[3] == 3  # the online and till rankings, and their distributors' names
    page = dashboard.figures_for_page([b.pk])[b.pk]
    assert page == dashboard.figures(b)
    assert (page["orders"], page["team_direct"], page["team_indirect"]) == (11, 3, 0)


def walk(api, path, size: int, between=None) -> list[list[int]]:
    pages, before = [], None
    while True:
        query = {"page_size": size} | ({"before": before} if before else {})
        reply = api.get(path, **query)
        assert reply.status_code == 200, reply.content
        body = reply.json()
        assert set(body) == {"items", "next"}
        pages.append([item["id"] for item in body["items"]])
        before = body["next"]
        if before is None:
            return pages
        if between:
            between()


def test_commission_pages_cover_everything_once_while_new_commissions_arrive(chain):
    a, b = chain
    products = [make_product(price=1000 + i) for i in range(5)]
    buyer = bound_buyer(b)
    for _ in range(5):
        buy(buyer, *((sku(p), 1) for p in products))
    existing = list(Commission.objects.filter(distributor=b).order_by("-pk").values_list("pk", flat=True))
    assert len(existing) == 25
    api = api_for(b.user)

    pages = walk(api, "/distribution/commissions", 10, between=lambda: buy(buyer, (sku(products[0]), 1)))

    assert [len(p) for p in pages] == [10, 10, 5]
    assert [pk for page in pages for pk in page] == existing  # newest first, each once
    assert Commission.objects.filter(distributor=b).count() == 27  # two arrived meanwhile
    # The newcomers are on the first page of a fresh walk.
    fresh = walk(api, "/distribution/commissions", 10)
    assert sorted(pk for page in fresh for pk in page) == sorted(
        Commission.objects.filter(distributor=b).values_list("pk", flat=True)
    )


def test_a_page_of_commissions_costs_the_same_far_down_the_list(chain):
    a, b = chain
    products = [make_product(price=1000 + i) for i in range(10)]
    buyer = bound_buyer(b)
    for _ in range(4):
        buy(buyer, *((sku(p), 1) for p in products))
    api = api_for(b.user)
    last = walk(api, "/distribution/commissions", 10)[-2][-1]  # the cursor to the last page

    first = api_sql(b.user, "/distribution/commissions?page_size=10")
    deep = api_sql(b.user, f"/distribution/commissions?page_size=10&before={last}")

    assert len(first) == len(deep)
    listing = [sql.upper() for sql in deep if '"DISTRIBUTION_COMMISSION"' in sql.upper()]
    assert listing and not [sql for sql in listing if "COUNT(" in sql or "OFFSET" in sql]


def test_ledger_pages_cover_everything_once(chain):
    a, b = chain
    for price in (10000, 20000, 30000):
        earn(b, price)
    api = api_for(b.user)
    api.post("/distribution/withdrawals", {"amount": 1000, "method": "store_credit", "account": {}})
    existing = list(LedgerEntry.objects.filter(distributor=b).order_by("-pk").values_list("pk", flat=True))

    pages = walk(api, "/distribution/ledger", 2)

    assert [pk for page in pages for pk in page] == existing and len(existing) == 4


def test_the_h5_commission_list_loads_older_records_by_key(chain):
    a, b = chain
    products = [make_product(price=1000 + i) for i in range(25)]
    buy(bound_buyer(b), *((sku(p), 1) for p in products))
    browser = Client()
    browser.force_login(b.user)

    first = browser.get("/d/commissions/").content.decode()
    assert first.count('data-testid="commission"') == 20
    more = re.search(r'before=(\d+)" data-testid="more"', first)
    assert more
    older = browser.get(f"/d/commissions/?before={more.group(1)}").content.decode()
    assert older.count('data-testid="commission"') == 5
    assert 'data-testid="more"' not in older and "回到最新" in older
    shown = re.findall(r"订单 (\S+)</span>", first + older)
    assert len(shown) == 25
