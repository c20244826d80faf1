"""The staff report API: the same figures as the services, by permission, 4xx on bad input;
and the query budgets of the dashboard and every report."""

import pytest
from django.contrib.auth.models import Group

from fenxiao.analytics.services import aggregates, dashboard, reports, serialize
from fenxiao.analytics.services.periods import Period
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.testing import api_for, assert_refused, make_buyer, make_product, make_staff

from .shop import build_shop, day

pytestmark = pytest.mark.django_db

ALL_REPORTS = [
    "analytics.view_sales_report",
    "analytics.view_distribution_report",
    "analytics.view_traffic_report",
    "analytics.view_stores_report",
]


def span(first, last, grain="day"):
    return {"start": day(first).isoformat(), "end": day(last).isoformat(), "grain": grain}


def member_of(role: str):
    ensure_staff_groups()
    user = make_staff(role)
    user.groups.add(Group.objects.get(name=role))
    return api_for(user)


def test_each_report_returns_what_the_service_returns():
    build_shop()
    client = api_for(make_staff(perms=ALL_REPORTS))
    for key in reports.PAGES:
        for grain in ("day", "week", "month"):
            reply = client.get(f"/staff/reports/{key}", **span(0, 4, grain))
            assert reply.status_code == 200, reply.content
            period = Period(day(0), day(4), grain)
            expected = [serialize.report(r) for r in reports.build(key, period, {})]
            body = reply.json()
            assert body["period"]["start"] == day(0).isoformat() and body["period"]["grain"] == grain
            assert body["sections"] == expected
    sales = client.get("/staff/reports/sales", **span(0, 4)).json()["sections"][0]
    assert {m["key"]: m["value"] for m in sales["metrics"]}["gmv"] == 39000


def test_the_dashboard_returns_what_the_service_returns():
    build_shop()
    client = api_for(make_staff(perms=ALL_REPORTS))
    body = client.get("/staff/dashboard", **span(2, 3)).json()
    expected = [serialize.metric(m) for m in dashboard.overview(Period(day(2), day(3)))]
    assert body["metrics"] == expected
    assert body["previous"]["start"] == day(0).isoformat()
    gmv = next(m for m in body["metrics"] if m["key"] == "gmv")
    assert (gmv["value"], gmv["previous"], gmv["unit"]) == (4000, 35000, "fen")
    # A preset answers too (the default is today).
    assert client.get("/staff/dashboard", range="30d").status_code == 200
    assert client.get("/staff/dashboard").json()["period"]["days"] == 1


@pytest.mark.parametrize(
    "query",
    [
        {"range": "forever"},
        {"start": "2026-13-01", "end": "2026-13-02"},
        {"start": "2026-02-10", "end": "2026-02-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"start": "2999-01-01", "end": "2999-01-02"},
        {"range": "7d", "grain": "hour"},
    ],
)
def test_bad_periods_are_refused_with_400(query):
    client = api_for(make_staff(perms=ALL_REPORTS))
    assert_refused(client.get("/staff/dashboard", **query), 400, "REPORT_PERIOD_INVALID")
    assert_refused(client.get("/staff/reports/sales", **query), 400, "REPORT_PERIOD_INVALID")


def test_unknown_report_bad_limit_and_no_permission():
    client = api_for(make_staff(perms=ALL_REPORTS))
    assert_refused(client.get("/staff/reports/profit"), 404, "REPORT_NOT_FOUND")
    assert_refused(client.get("/staff/reports/sales", limit="abc"), 400, "REPORT_LIMIT_INVALID")
    nobody = api_for(make_staff())
    assert_refused(nobody.get("/staff/dashboard"), 403, "PERMISSION_DENIED")
    assert_refused(nobody.get("/staff/reports/sales"), 403, "PERMISSION_DENIED")
    assert api_for(make_buyer()).get("/staff/reports/sales").status_code == 403


def test_roles_see_the_reports_that_fit_them():
    operations, finance = member_of(OPERATIONS), member_of(FINANCE)
    for key in reports.PAGES:
        assert operations.get(f"/staff/reports/{key}").status_code == 200
    assert finance.get("/staff/reports/sales").status_code == 200
    assert finance.get("/staff/reports/distribution").status_code == 200
    assert_refused(finance.get("/staff/reports/traffic"), 403, "PERMISSION_DENIED")
    # On the dashboard finance sees no traffic figure.
    keys = {m["key"] for m in finance.get("/staff/dashboard").json()["metrics"]}
    assert keys == {k for k, page in dashboard.METRIC_REPORT.items() if page != "traffic"}
    keys = {m["key"] for m in operations.get("/staff/dashboard").json()["metrics"]}
    assert keys == set(dashboard.METRIC_REPORT)


def count_queries(django_assert_max_num_queries, budget, cold=True):
    """Queries of the dashboard and each report for a 30-day period, each within `budget`."""
    from fenxiao.analytics.models import DistinctCount

    counts = {}
    period = Period(day(-20), day(9))
    if cold:
        DistinctCount.objects.all().delete()  # counted on the page, not kept from an earlier call
    for name, call in [
        ("dashboard", lambda: dashboard.overview(period)),
        *[(key, lambda key=key: reports.build(key, period, {})) for key in reports.PAGES],
    ]:
        if cold:
            DistinctCount.objects.all().delete()
        with django_assert_max_num_queries(budget[name]) as captured:
            call()
        counts[name] = len(captured.captured_queries)
    return counts


# Cold: distinct buyers and visitors counted on the page (a lookup, two counts, one insert
# each; 流量报表 counts both, for its 转化率); warm: they come from the kept counts (the
# periodic refresh keeps the presets').
# 分类销售 reads its order counts from CategoryDay: one query, whatever the categories;
# 门店报表 its till sales: one grouped query, whatever the stores; its cards compare with the
# period before, the same queries once more.
BUDGET = {"dashboard": 12, "sales": 12, "distribution": 9, "traffic": 17, "stores": 12}
WARM = {"dashboard": 6, "sales": 9, "distribution": 9, "traffic": 9, "stores": 12}


def test_query_budgets_do_not_grow_with_orders(django_assert_max_num_queries):
    build_shop()
    before = count_queries(django_assert_max_num_queries, BUDGET)
    lamp = make_product(price=500)
    for _ in range(6):
        buy(make_buyer(), (sku(lamp), 2))
    aggregates.refresh()
    assert count_queries(django_assert_max_num_queries, BUDGET) == before
    count_queries(django_assert_max_num_queries, BUDGET, cold=False)  # keeps the counts
    assert count_queries(django_assert_max_num_queries, WARM, cold=False) == WARM
