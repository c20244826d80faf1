"""经营概况 and the report pages on the real report services, over the hand-counted fixture
shop (`shop.py`): the page shows the figures the services compute, the exports equal the
tables, and a page costs the same number of queries however many orders the shop has."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.analytics.admin import render
from fenxiao.analytics.services import aggregates, dashboard, periods, reports
from fenxiao.analytics.services.shapes import BP, FEN
from fenxiao.core.tabular import safe_text
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.testing import login, make_buyer, make_staff

from .shop import build_shop, on_day, visit

pytestmark = pytest.mark.django_db

# Page budgets: session, user, permissions, the to-do panel, and the services' own queries
# (measured warm: 18 for the 30-day dashboard, 30 for today's, which also reads the week
# its chart draws; 12-13 for a report page), and on a fresh shop one more for a superuser:
# whether to invite them to the quick-setup wizard. Today's also reads yesterday up to the
# same time of day: the refresh mark and one query per source (seven in all). The to-do
# panel's 待自提 costs two: the count, and with none waiting whether any store offers pickup.
DASHBOARD_BUDGET = 35
TODAY_BUDGET = DASHBOARD_BUDGET + 7
REPORT_BUDGET = 16


@pytest.fixture
def shop():
    return build_shop()


def text(reply) -> str:
    return re.sub(r"\s+", " ", reply.content.decode())


def member(role):
    ensure_staff_groups()
    user = make_staff(role)
    user.groups.add(Group.objects.get(name=role))
    return login(user)


def test_the_dashboard_shows_the_service_figures(shop):
    period = periods.preset("30d")
    figures = {m.key: m for m in dashboard.overview(period)}
    assert figures["gmv"].value > 0  # the shop sold something in those 30 days
    html = text(login(make_staff("boss", superuser=True)).get("/backend/?range=30d"))
    cards = dict(
        re.findall(r'data-metric="(\w+)">.*?fx-value[^>]*>([^<]+)</div>', html),
    )
    assert set(cards) == set(dashboard.METRIC_REPORT)
    for key, metric in figures.items():
        assert cards[key].strip() == render.format_value(metric.value, metric.unit), key
    assert html.count('class="chart"') == 1
    # The figures come from aggregates a job refreshes: the page says when they were.
    assert re.search(r'id="freshness">数据更新于 \d{4}-\d\d-\d\d \d\d:\d\d（每 5 分钟更新）', html)


def test_finance_sees_no_traffic_figure_on_the_real_dashboard(shop):
    html = text(member(FINANCE).get("/backend/?range=30d"))
    shown = set(re.findall(r'data-metric="(\w+)"', html))
    assert shown == {k for k, report in dashboard.METRIC_REPORT.items() if report != "traffic"}
    chart = re.search(r'data-value="([^"]+)"', html).group(1)
    assert "访客数" not in chart and "实付金额" in chart


@pytest.mark.parametrize("key", ["sales", "distribution", "traffic"])
def test_each_report_page_renders_every_section_and_exports_it(shop, key):
    client = member(OPERATIONS)
    reply = client.get(f"/backend/data/{key}/?range=30d")
    assert reply.status_code == 200
    html = text(reply)
    built = reports.build(key, periods.preset("30d"), {})
    assert built
    for report in built:
        assert f'data-report="{report.key}"' in html
        if report.table is None or not report.table.rows:
            continue
        export = client.get(f"/backend/data/{key}/export/csv/?range=30d&report={report.key}")
        assert export.status_code == 200
        lines = list(csv.reader(io.StringIO(export.content.decode("utf-8").lstrip("\ufeff"))))
        assert len(lines) == 1 + len(report.table.rows) + (1 if report.table.totals else 0)
        for row, line in zip(report.table.rows, lines[1:], strict=False):
            for column, cell in zip(report.table.columns, line, strict=True):
                value = row.get(column.key)
                if column.text:
                    assert cell == safe_text(value)
                elif column.unit in (FEN, BP):  # yuan and percent, two decimals
                    assert Decimal(cell) * 100 == value
                else:
                    assert cell == ("" if value is None else str(value))
            # ...and the page shows the same row.
            first = row.get(report.table.columns[0].key)
            assert str(first) in html or render.format_value(first, report.table.columns[0].unit) in html


@pytest.mark.parametrize("key", ["sales", "distribution", "traffic"])
def test_a_one_day_trend_is_drawn_as_bars_not_a_dot(shop, key):
    """今日 or 昨日 is one bucket: a line chart of it is a single dot on an empty canvas."""
    client = member(OPERATIONS)

    def trend_chart(query) -> str:
        html = text(client.get(f"/backend/data/{key}/?{query}"))
        section = html[html.index(f'data-report="{key}-by-period"') :]
        return re.search(r'class="chart" data-type="(\w+)"', section).group(1)

    assert trend_chart("range=yesterday") == trend_chart("range=today") == "bar"
    assert trend_chart("range=7d") == "line"


def test_the_ranking_length_reaches_the_service(shop):
    client = member(OPERATIONS)
    html = text(client.get("/backend/data/sales/?range=30d&limit=10"))
    assert "前 10 个商品" in html
    export = client.get("/backend/data/sales/export/csv/?range=30d&limit=1&report=sales-by-product")
    assert len(list(csv.reader(io.StringIO(export.content.decode("utf-8").lstrip("\ufeff"))))) == 2


def grow(shop, orders=6):
    """More buyers, orders and visits on a later day, refreshed into the aggregates."""
    with on_day(5):
        for n in range(orders):
            buyer = make_buyer(f"136{n:08d}")
            buy(buyer, (sku(shop["pen"]), 1 + n % 3))
            visit(5, f"grow{n}", buyer=buyer, pv=2, products=1)
        aggregates.refresh()


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_pages_cost_the_same_queries_for_a_bigger_shop(shop):
    client = login(make_staff("boss", superuser=True))
    urls = ["/backend/?range=30d", "/backend/?range=today"] + [
        f"/backend/data/{key}/?range=30d" for key in ("sales", "distribution", "traffic")
    ]
    # Warm first: content types, the session, and the distinct-count cache the report
    # services keep per ended span (a miss costs a fixed couple of queries, not per row).
    for url in urls:
        client.get(url)
    few = {url: queries(client, url) for url in urls}
    grow(shop)
    assert dashboard.overview(periods.preset("30d"))[1].value > 4  # the new orders count
    cold = {url: queries(client, url) for url in urls}
    many = {url: queries(client, url) for url in urls}
    assert all(cold[url] <= few[url] + 4 for url in urls), (cold, few)
    assert many == few
    assert few["/backend/?range=30d"] <= DASHBOARD_BUDGET
    assert few["/backend/?range=today"] <= TODAY_BUDGET
    for key in ("sales", "distribution", "traffic"):
        assert few[f"/backend/data/{key}/?range=30d"] <= REPORT_BUDGET


def download_name(reply) -> str:
    """The file name a browser saves: the RFC 6266 UTF-8 one, checked against its fallback."""
    from urllib.parse import unquote

    disposition = reply["Content-Disposition"]
    fallback = re.search(r'filename="([^"]*)"', disposition).group(1)
    assert fallback.isascii() and fallback.endswith((".csv", ".xlsx"))
    return unquote(re.search(r"filename\*=UTF-8''(\S+)$", disposition).group(1))


def test_export_file_names_say_the_report_grain_and_period(shop):
    """A trend exported by day and by week, or for two periods, gets two file names: the
    page, the section, the grain and the period (they were both 销售趋势-<start>-<end>)."""
    client = member(OPERATIONS)
    week = periods.preset("30d")
    first, last = f"{week.start:%Y-%m-%d}", f"{week.end:%Y-%m-%d}"

    def name(query):
        reply = client.get(f"/backend/data/sales/export/{query}")
        assert reply.status_code == 200
        return download_name(reply)

    by_day = name("csv/?range=30d&grain=day&report=sales-by-period")
    by_week = name("csv/?range=30d&grain=week&report=sales-by-period")
    assert by_day == f"销售报表_销售趋势_按日_{first}_{last}.csv"
    assert by_week == f"销售报表_销售趋势_按周_{first}_{last}.csv"
    seven = periods.preset("7d")
    assert name("xlsx/?range=7d&grain=week&report=sales-by-period") == (
        f"销售报表_销售趋势_按周_{seven.start:%Y-%m-%d}_{seven.end:%Y-%m-%d}.xlsx"
    )
    # A table whose rows are not buckets does not change with the grain: no grain in its name.
    assert (
        name("xlsx/?range=30d&grain=week&report=sales-by-product") == f"销售报表_商品销售_{first}_{last}.xlsx"
    )
    reply = client.get("/backend/data/distribution/export/csv/?range=30d&grain=month")
    assert download_name(reply) == f"分销报表_分销概况_按月_{first}_{last}.csv"
