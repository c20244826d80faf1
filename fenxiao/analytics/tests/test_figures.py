"""Every dashboard figure and report row of the fixture shop (see shop.py), counted by hand."""

import pytest

from fenxiao.analytics.services import dashboard, reports
from fenxiao.analytics.services.periods import WEEK, Period
from fenxiao.distribution.models import DistributorTotals

from .shop import build_shop, day

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return build_shop()


def figures(period):
    return {m.key: (m.value, m.previous, m.trend) for m in dashboard.overview(period)}


def sections(key, period, params=None):
    return {r.key: r for r in reports.build(key, period, params or {})}


def test_dashboard_over_the_five_days(shop):
    got = figures(Period(day(0), day(4)))
    assert got == {
        "gmv": (39000, 0, [25000, 10000, 4000, 0, 0]),
        "paid_orders": (4, 0, [2, 1, 1, 0, 0]),
        # buyer1 paid on D0 and D2: three buyers, not the four of the daily counts summed.
        "paying_buyers": (3, 0, [2, 1, 1, 0, 0]),
        "avg_order_value": (9750, 0, [12500, 10000, 4000, 0, 0]),
        "refunds": (21000, 0, [0, 10000, 1000, 0, 10000]),
        # v1 came on D0, D1 and D2: four visitors, six visitor-days.
        "visitors": (4, 0, [3, 2, 1, 0, 0]),
        "page_views": (18, 0, [9, 6, 3, 0, 0]),
        "conversion_bp": (7500, 0, [6667, 5000, 10000, 0, 0]),
        "new_distributors": (3, 0, [2, 1, 0, 0, 0]),
        "commission_accrued": (5100, 0, [3000, 1500, 600, 0, 0]),
        "commission_paid": (1000, 0, [0, 0, 0, 0, 1000]),
    }


def test_dashboard_against_the_previous_period(shop):
    # D2..D3 against D0..D1.
    got = figures(Period(day(2), day(3)))
    assert {k: v[:2] for k, v in got.items()} == {
        "gmv": (4000, 35000),
        "paid_orders": (1, 3),
        "paying_buyers": (1, 3),
        "avg_order_value": (4000, 11666),
        "refunds": (1000, 10000),
        "visitors": (1, 4),
        "page_views": (3, 15),
        "conversion_bp": (10000, 7500),
        "new_distributors": (0, 3),
        "commission_accrued": (600, 4500),
        "commission_paid": (0, 0),
    }
    metric = next(m for m in dashboard.overview(Period(day(2), day(3))) if m.key == "gmv")
    assert metric.change_bp == -8857  # ¥350 → ¥40: down 88.57 % (88.571…), rounded


def test_dashboard_trend_chart(shop, django_assert_num_queries):
    chart = dashboard.trend(Period(day(0), day(2)))
    assert [d.values for d in chart.datasets] == [[25000, 10000, 4000], [2, 1, 1], [3, 2, 1]]
    assert chart.labels == [day(n).strftime("%m-%d") for n in range(3)]
    # From figures already read: the same chart, no query.
    metrics = dashboard.overview(Period(day(0), day(2)))
    with django_assert_num_queries(0):
        assert dashboard.trend(Period(day(0), day(2)), metrics) == chart
    # Only the figures a role may see: a finance user's chart has no visitors.
    sales_only = [m for m in metrics if dashboard.METRIC_REPORT[m.key] == "sales"]
    assert [d.label for d in dashboard.trend(Period(day(0), day(2)), sales_only).datasets] == [
        "实付金额",
        "付款订单数",
    ]


def test_sales_report(shop):
    got = sections("sales", Period(day(0), day(4)))
    assert list(got) == ["sales-by-period", "sales-by-product", "sales-by-category", "top-products"]
    trend = got["sales-by-period"]
    assert {m.key: m.value for m in trend.metrics} == {
        "paid_orders": 4,
        "paying_buyers": 3,
        "units": 8,
        "gmv": 39000,
        "avg_order_value": 9750,
        "discounts": 1000,
        "refunds": 21000,
        "net_sales": 18000,
    }
    rows = [
        (r["paid_orders"], r["units"], r["gmv"], r["discounts"], r["refunds"], r["net_sales"])
        for r in trend.table.rows
    ]
    assert rows == [
        (2, 5, 25000, 1000, 0, 25000),
        (1, 1, 10000, 0, 10000, 0),
        (1, 2, 4000, 0, 1000, 3000),
        (0, 0, 0, 0, 0, 0),
        (0, 0, 0, 0, 10000, -10000),
    ]
    assert trend.table.rows[0]["discount_adjust"] == 1000
    assert trend.table.totals["refund_count"] == 3
    keys = ("name", "orders", "units", "sales", "refunded_units", "refunds", "net_sales")
    products = [tuple(r[k] for k in keys) for r in got["sales-by-product"].table.rows]
    assert products == [("台灯", 2, 3, 30000, 2, 20000, 10000), ("钢笔", 2, 5, 9000, 1, 1000, 8000)]
    categories = [tuple(r[k] for k in keys) for r in got["sales-by-category"].table.rows]
    assert categories == [("灯具", 2, 3, 30000, 2, 20000, 10000), ("文具", 2, 5, 9000, 1, 1000, 8000)]
    assert got["top-products"].chart.labels == ["台灯", "钢笔"]


@pytest.mark.parametrize("grain", [WEEK, "month"])
def test_weeks_and_months_count_each_buyer_and_visitor_once(shop, grain):
    """Who paid and who visited on which day (see shop.py); each bucket counts a person once
    however many of its days they came back."""
    period = Period(day(0), day(4), grain)
    payers = {0: {"buyer1", "buyer2"}, 1: {"buyer3"}, 2: {"buyer1"}}
    visitors = {0: {"v1", "v2", "v3"}, 1: {"v1", "v4"}, 2: {"v1"}}
    gmv = {0: 25000, 1: 10000, 2: 4000}

    def in_bucket(per_day, first, last, merge):
        days = [n for n in per_day if first <= day(n) <= last]
        return merge(per_day[n] for n in days)

    buckets = period.buckets()
    union = lambda sets: len(set().union(*sets))  # noqa: E731
    trend = sections("sales", period)["sales-by-period"]
    assert [r["paying_buyers"] for r in trend.table.rows] == [
        in_bucket(payers, f, lst, union) for _, f, lst in buckets
    ]
    assert [r["gmv"] for r in trend.table.rows] == [in_bucket(gmv, f, lst, sum) for _, f, lst in buckets]
    traffic = sections("traffic", period)["traffic-by-period"]
    assert [r["visitors"] for r in traffic.table.rows] == [
        in_bucket(visitors, f, lst, union) for _, f, lst in buckets
    ]
    got = figures(period)
    assert got["paying_buyers"][2] == [r["paying_buyers"] for r in trend.table.rows]
    assert (got["paying_buyers"][0], got["visitors"][0]) == (3, 4)


def test_distribution_report(shop):
    got = sections("distribution", Period(day(0), day(4)))
    overview = got["distribution-by-period"]
    assert {m.key: m.value for m in overview.metrics} == {
        "distributor_orders": 3,
        "distributor_sales": 34000,
        "distributor_share_bp": 8718,  # 34000 / 39000 = 87.179… %, rounded
        "commission_accrued": 5100,
        # o5's commission (B 4.00, A 2.00) is still pending; nothing is frozen.
        "commission_pending": 600,
        "commission_frozen": 0,
        "commission_settled": 3000,
        "commission_paid": 1000,
        "commission_reduced": 1500,
        "commission_clawed_back": 1500,
        "new_distributors": 3,
    }
    assert [r["commission_settled"] for r in overview.table.rows] == [0, 0, 0, 3000, 0]
    assert [r["commission_clawed_back"] for r in overview.table.rows] == [0, 0, 0, 0, 1500]
    ranking = got["distributor-sales-ranking"].table.rows
    keys = (
        "distributor_id",
        "orders",
        "sales",
        "refunds",
        "net_sales",
        "commission_accrued",
        "commission_settled",
        "commission_clawed_back",
    )
    # B's refunds: o4 in full (D1) and one lamp of o1 (D4); o2's pen was not through B.
    assert [tuple(r[k] for k in keys) for r in ranking] == [
        (shop["b"].pk, 3, 34000, 20000, 14000, 3400, 2000, 1000),
        (shop["a"].pk, 0, 0, 0, 0, 1700, 1000, 500),
    ]
    # Over all days, B's net sales are B's running total.
    assert ranking[0]["net_sales"] == DistributorTotals.objects.get(pk=shop["b"].pk).sales
    # A refund counts on its own day: D4 has B's refund of o1 and none of its sales.
    d4 = sections("distribution", Period(day(4), day(4)))["distributor-sales-ranking"].table.rows
    assert [
        (r["sales"], r["refunds"], r["net_sales"]) for r in d4 if r["distributor_id"] == shop["b"].pk
    ] == [(0, 10000, -10000)]
    assert [r["distributor_id"] for r in got["distributor-commission-ranking"].table.rows] == [
        shop["b"].pk,
        shop["a"].pk,
    ]
    flows = ("accrued_count", "accrued", "reduced", "settled", "clawed_back", "held_pending", "held_frozen")
    levels = [tuple(r[k] for k in ("level", *flows)) for r in got["commission-by-level"].table.rows]
    assert levels == [(1, 3, 3400, 1000, 2000, 1000, 400, 0), (2, 3, 1700, 500, 1000, 500, 200, 0)]
    # The grade a commission was computed with is the level-1 distributor's (B, 金牌).
    grades = [tuple(r[k] for k in ("grade_name", *flows)) for r in got["commission-by-grade"].table.rows]
    assert grades == [("金牌", 6, 5100, 1500, 3000, 1500, 600, 0)]


def test_what_is_still_held_is_not_compared_with_the_period_before(shop):
    """D2..D3 against D0..D1: o5's commission (D2) is still pending, D0..D1's has long since
    settled or gone. 待结算 / 冻结中 are what is held now, not flows of each period: a
    comparison would always read as a rise (here from ¥0, which was ¥3000 at the time)."""
    overview = sections("distribution", Period(day(2), day(3)))["distribution-by-period"]
    held = {m.key: (m.value, m.previous) for m in overview.metrics if m.key.startswith("commission_")}
    assert held["commission_pending"] == (600, None)
    assert held["commission_frozen"] == (0, None)
    assert held["commission_accrued"] == (600, 4500)  # a flow: compared


def test_traffic_report(shop):
    got = sections("traffic", Period(day(0), day(4)))
    trend = got["traffic-by-period"]
    assert {m.key: m.value for m in trend.metrics} == {
        "page_views": 18,
        "visitors": 4,
        "visits": 6,
        "paid_visits": 4,
        "conversion_bp": 7500,  # three paying buyers of four visitors
    }
    assert [(r["page_views"], r["visitors"], r["conversion_bp"]) for r in trend.table.rows] == [
        (9, 3, 6667),
        (6, 2, 5000),
        (3, 1, 10000),
        (0, 0, 0),
        (0, 0, 0),
    ]
    assert trend.table.totals["conversion_bp"] == 7500
    by_source = {
        r["source"]: (r["page_views"], r["visitors"], r["visits"])
        for r in got["traffic-by-source"].table.rows
    }
    assert by_source == {"link": (10, 1, 3), "direct": (3, 1, 1), "qr": (4, 1, 1), "search": (1, 1, 1)}
    (b_row,) = got["traffic-by-distributor"].table.rows
    assert (b_row["distributor_id"], b_row["page_views"], b_row["visits"], b_row["paid_visits"]) == (
        shop["b"].pk,
        14,
        4,
        3,
    )
    funnel = [(r["step"], r["visits"]) for r in got["traffic-funnel"].table.rows]
    assert funnel == [("访问", 6), ("浏览商品", 4), ("加入购物车", 2), ("下单", 4), ("付款", 4)]
    steps = ("visits", "product_visits", "cart_visits", "order_visits", "paid_visits")
    per_source = {r["source"]: tuple(r[k] for k in steps) for r in got["traffic-funnel-by-source"].table.rows}
    assert per_source == {
        "link": (3, 2, 1, 2, 2),
        "direct": (1, 1, 0, 1, 1),
        "qr": (1, 1, 1, 1, 1),
        "search": (1, 0, 0, 0, 0),
    }


@pytest.mark.parametrize(
    "figure, key", [("avg_order_value", "sales"), ("conversion_bp", "traffic")], ids=["客单价", "转化率"]
)
@pytest.mark.parametrize("first, last", [(0, 4), (2, 3), (1, 1)])
def test_a_dashboard_card_shows_the_same_figure_on_the_report_it_opens(shop, figure, key, first, last):
    """Each card links to its report (dashboard.METRIC_REPORT): the figure is there, equal,
    against the same previous period."""
    period = Period(day(first), day(last))
    card = next(m for m in dashboard.overview(period) if m.key == figure)
    trend = next(iter(sections(key, period).values()))
    shown = {m.key: (m.value, m.previous) for m in trend.metrics}
    assert shown[figure] == (card.value, card.previous)


def test_an_empty_period_is_all_zero(shop):
    period = Period(day(-8), day(-6))
    assert all(value == 0 and trend == [0, 0, 0] for value, _, trend in figures(period).values())
    assert sections("sales", period)["sales-by-product"].table.rows == []


def test_unknown_report_and_bad_limit_are_refused():
    from fenxiao.core.errors import InvalidInput, NotFound

    period = Period(day(0), day(1))
    with pytest.raises(NotFound):
        reports.build("profit", period, {})
    with pytest.raises(InvalidInput):
        reports.build("sales", period, {"limit": "0"})


@pytest.mark.parametrize(
    "part, whole, bp",
    [(2, 3, 6667), (140, 185, 7568), (1, 8, 1250), (-1, 3, -3333), (1, 0, 0), (0, 7, 0), (5, 5, 10000)],
)
def test_rates_are_rounded_as_a_spreadsheet_rounds(part, whole, bp):
    from fenxiao.core.money import ratio_bp

    assert ratio_bp(part, whole) == bp
