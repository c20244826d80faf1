"""分类销售 shows a 小计 for each category with categories beneath it, laid out as the tree
(小计, the category's own products, then its children by paid amount). Units, amounts and
refunds add up through the tree; an order buying from two children is one order of their
parent. The chart compares the top-level categories, and the files carry the same rows."""

import csv
import io
import re

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
    """茶 (its own 茶礼盒) > 绿茶 > 明前 (龙井), 茶 > 红茶 (祁门); 茶具 (茶杯) on its own.
    One order buys 龙井 and 祁门, one 茶礼盒, one 茶杯 and 龙井."""
    tea, cups = make_category("茶"), make_category("茶具")
    green = make_category("绿茶", parent=tea)
    spring = make_category("明前", parent=green)
    black = make_category("红茶", parent=tea)
    longjing = make_product("龙井", category=spring, price=10000)
    keemun = make_product("祁门", category=black, price=6000)
    box = make_product("茶礼盒", category=tea, price=20000)
    cup = make_product("茶杯", category=cups, price=2000)
    buy(make_buyer(), (sku(longjing), 1), (sku(keemun), 2))
    buy(make_buyer(), (sku(box), 1))
    buy(make_buyer(), (sku(cup), 1), (sku(longjing), 1))
    aggregates.refresh()
    return {"tea": tea, "green": green, "spring": spring, "black": black, "cups": cups}


def category_report():
    today = timezone.localdate()
    (report,) = [r for r in reports.build("sales", Period(today, today), {}) if r.key == "sales-by-category"]
    return report


def test_parents_carry_a_subtotal_above_their_own_products_and_children(tea_shop):
    rows = [
        (r["name"], r["subtotal"], r["orders"], r["units"], r["sales"]) for r in category_report().table.rows
    ]
    assert rows == [
        # 茶: three orders bought from it or beneath it (龙井+祁门 is one order).
        ("茶 小计", True, 3, 5, 52000),
        ("茶", False, 1, 1, 20000),
        ("茶/绿茶 小计", True, 2, 2, 20000),
        ("茶/绿茶/明前", False, 2, 2, 20000),
        ("茶/红茶", False, 1, 2, 12000),
        ("茶具", False, 1, 1, 2000),
    ]


def test_the_chart_compares_the_top_level_categories(tea_shop):
    chart = category_report().chart
    assert chart.labels == ["茶", "茶具"]
    assert chart.datasets[0].values == [52000, 2000]


def test_the_subtotals_are_kept_by_the_refresh_and_the_rebuild_alike(tea_shop):
    def kept():
        return sorted(CategoryDay.objects.values_list("category_id", "orders", "tree_orders"))

    t = tea_shop
    assert kept() == sorted(
        [
            (t["tea"].pk, 1, 3),
            (t["green"].pk, 0, 2),
            (t["spring"].pk, 2, 2),
            (t["black"].pk, 1, 1),
            (t["cups"].pk, 1, 1),
        ]
    )
    before = kept()
    today = timezone.localdate()
    aggregates.rebuild(today, today)
    aggregates.rebuild(today, today)
    assert kept() == before


def test_a_category_without_children_gets_no_subtotal():
    lone = make_category("茶具")
    make_category("空分类", parent=lone)  # nothing beneath it sold
    buy(make_buyer(), (sku(make_product("茶杯", category=lone, price=2000)), 1))
    aggregates.refresh()
    names = [r["name"] for r in category_report().table.rows]
    assert names == ["茶具"]


def test_the_export_carries_the_subtotal_rows(tea_shop):
    client = login(make_staff("boss", superuser=True))
    reply = client.get("/backend/data/sales/export/csv/?range=today&report=sales-by-category")
    lines = list(csv.reader(io.StringIO(reply.content.decode("utf-8").lstrip("\ufeff"))))
    assert [(line[0], line[1]) for line in lines[1:]] == [
        ("茶 小计", "3"),
        ("茶", "1"),
        ("茶/绿茶 小计", "2"),
        ("茶/绿茶/明前", "2"),
        ("茶/红茶", "1"),
        ("茶具", "1"),
    ]


def test_the_page_sets_the_subtotal_rows_apart(tea_shop):
    html = login(make_staff("boss", superuser=True)).get("/backend/data/sales/?range=today").content.decode()
    section = html[html.index('data-report="sales-by-category"') :]
    section = section[: section.index("</table>")]
    marked = re.findall(r'<tr class="fx-subtotal"><td[^>]*>([^<]+)</td>', section)
    assert marked == ["茶 小计", "茶/绿茶 小计"]
    assert re.search(r"<tr><td[^>]*>茶/绿茶/明前</td>", section)
