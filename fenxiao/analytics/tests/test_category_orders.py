"""分类销售 counts an order once in its category however many of the category's products it
bought, as 销售趋势 counts it once; the export gives the page's figure, and the category
rows are kept by the refresh and the rebuild like every aggregate."""

import csv
import io

import pytest
from django.utils import timezone

from fenxiao.analytics.models import CategoryDay
from fenxiao.analytics.services import aggregates, reports
from fenxiao.analytics.services.periods import Period
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.testing import login, make_buyer, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea_shop():
    """One order of 龙井 and 碧螺春 (both 茶叶) and a 茶杯 (茶具); one more of 龙井 alone."""
    tea, cups = make_category("茶叶"), make_category("茶具")
    longjing = make_product("龙井", category=tea, price=10000)
    biluochun = make_product("碧螺春", category=tea, price=8000)
    cup = make_product("茶杯", category=cups, price=2000)
    buy(make_buyer(), (sku(longjing), 1), (sku(biluochun), 2), (sku(cup), 1))
    buy(make_buyer(), (sku(longjing), 1))
    aggregates.refresh()


def build():
    today = timezone.localdate()
    return {r.key: r for r in reports.build("sales", Period(today, today), {})}


def test_a_category_counts_each_order_once(tea_shop):
    got = build()
    assert got["sales-by-period"].table.totals["paid_orders"] == 2
    categories = {
        r["name"]: (r["orders"], r["units"], r["sales"]) for r in got["sales-by-category"].table.rows
    }
    assert categories == {"茶叶": (2, 4, 36000), "茶具": (1, 1, 2000)}  # 茶叶 was 3: one per product
    products = {r["name"]: r["orders"] for r in got["sales-by-product"].table.rows}
    assert products == {"龙井": 2, "碧螺春": 1, "茶杯": 1}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_category_export_gives_the_same_order_counts(tea_shop, fmt):
    client = login(make_staff("boss", superuser=True))
    reply = client.get(f"/backend/data/sales/export/{fmt}/?range=today&report=sales-by-category")
    assert reply.status_code == 200
    if fmt == "csv":
        lines = list(csv.reader(io.StringIO(reply.content.decode("utf-8").lstrip("\ufeff"))))
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(reply.content)).active
        lines = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert lines[0][:2] == ["分类", "订单数"]
    assert {line[0]: line[1] for line in lines[1:]} == {"茶叶": "2", "茶具": "1"}


def test_the_category_rows_are_rebuilt_and_refreshed_the_same(tea_shop):
    kept = sorted(CategoryDay.objects.values_list("day", "category_id", "orders"))
    assert [orders for _day, _category, orders in kept] in ([2, 1], [1, 2])
    CategoryDay.objects.all().delete()
    today = timezone.localdate()
    aggregates.rebuild(today, today)
    assert sorted(CategoryDay.objects.values_list("day", "category_id", "orders")) == kept
    aggregates.rebuild(today, today)  # idempotent
    assert sorted(CategoryDay.objects.values_list("day", "category_id", "orders")) == kept
