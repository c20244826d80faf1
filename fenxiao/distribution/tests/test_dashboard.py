"""The distributor dashboard: real figures, at a query cost that does not grow with them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.testing import api_for, make_product

from .helpers import (
    bound_buyer,
    buy,
    earn,
    make_distributor,
    receive,
    sku,
)

pytestmark = pytest.mark.django_db

BUDGET = 10


def dashboard(api) -> tuple[dict, int]:
    """Figures and query count. Pass a fresh client (a new token) to compare counts: a
    token records its use at most once a minute, which is one more query."""
    with CaptureQueriesContext(connection) as queries:
        reply = api.get("/distribution/dashboard")
    assert reply.status_code == 200, reply.content
    return reply.json(), len(queries)


def test_dashboard_query_count_is_fixed_whatever_the_size(django_assert_max_num_queries):
    a = make_distributor()
    b = make_distributor(parent=a)
    member = make_distributor(parent=b)
    make_distributor(parent=member)  # indirect
    buyer = bound_buyer(b)
    small = [make_product(price=1000 * (i + 1)) for i in range(2)]
    buy(buyer, *((sku(p), 1) for p in small))  # 2 commissions for b

    with django_assert_max_num_queries(BUDGET):
        figures, few = dashboard(api_for(b.user))
    # Paid 1000 + 2000 = 3000; b's level-1 10%: 100 + 200 = 300 pending
    assert {
        k: figures[k]
        for k in ("bound_buyers", "team_direct", "team_indirect", "orders", "sales", "commission_pending")
    } == {
        "bound_buyers": 1,
        "team_direct": 1,
        "team_indirect": 1,
        "orders": 1,
        "sales": 3000,
        "commission_pending": 300,
    }

    many = [make_product(price=1000) for _ in range(38)]
    buy(buyer, *((sku(p), 1) for p in many))  # 38 more commissions: 40 in all
    for _ in range(14):
        make_distributor(parent=b)  # 15 direct team members
    for _ in range(5):
        bound_buyer(b)
    with django_assert_max_num_queries(BUDGET):
        figures, lots = dashboard(api_for(b.user))

    assert b.commissions.count() == 40
    # Sales 3000 + 38 × 1000 = 41000; pending 300 + 38 × 100 = 4100
    assert {
        k: figures[k] for k in ("bound_buyers", "team_direct", "orders", "sales", "commission_pending")
    } == {"bound_buyers": 6, "team_direct": 15, "orders": 2, "sales": 41000, "commission_pending": 4100}
    assert few == lots


def test_dashboard_figures_follow_the_commission_lifecycle():
    a = make_distributor()
    b = make_distributor(parent=a)
    earn(b, 50000)  # settled: 50000 × 10% = 5000
    buyer = bound_buyer(b)
    receive(buy(buyer, (sku(make_product(price=20000)), 1)))  # frozen: 2000
    buy(buyer, (sku(make_product(price=12345)), 1))  # pending: 1234 (1234.5 down)
    api = api_for(b.user)
    assert (
        api.post(
            "/distribution/withdrawals", {"amount": 1500, "method": "store_credit", "account": {}}
        ).status_code
        == 201
    )

    figures, _ = dashboard(api)

    assert figures == {
        "bound_buyers": 2,
        "team_direct": 0,
        "team_indirect": 0,
        "orders": 3,
        "sales": 50000 + 20000 + 12345,
        "commission_pending": 1234,
        "commission_frozen": 2000,
        "commission_estimated": 1234 + 2000,
        "commission_available": 5000 - 1500,  # the request holds its amount
        "commission_withdrawn": 0,  # not paid yet
        "commission_total": 1234 + 2000 + 5000,
    }
    a_figures, _ = dashboard(api_for(a.user))
    # a at level 2: 50000 × 5% = 2500 settled, 20000 × 5% = 1000 frozen,
    # 12345 × 5% = 617.25 → 617 pending; a sold nothing at level 1
    assert (
        a_figures["commission_available"],
        a_figures["commission_frozen"],
        a_figures["commission_pending"],
        a_figures["orders"],
        a_figures["team_direct"],
    ) == (2500, 1000, 617, 0, 1)


def test_commission_list_and_team_pages_have_a_fixed_query_count():
    b = make_distributor()
    buyer = bound_buyer(b)
    buy(buyer, (sku(make_product(price=1000)), 1))
    make_distributor(parent=b)

    def count(path):
        api = api_for(b.user)  # a fresh token each time, see dashboard()
        with CaptureQueriesContext(connection) as queries:
            assert api.get(path).status_code == 200
        return len(queries)

    few = (count("/distribution/commissions"), count("/distribution/team"))
    buy(buyer, *((sku(make_product(price=1000)), 1) for _ in range(19)))
    for _ in range(10):
        make_distributor(parent=b)
    assert (count("/distribution/commissions"), count("/distribution/team")) == few
