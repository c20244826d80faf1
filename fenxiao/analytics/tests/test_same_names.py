"""Two categories or two products of the same name are told apart in 销售报表: a category
row is named by its path (服饰/配件, 数码/配件), a product row carries its id and links to its
backend page, on the page and in the CSV/Excel files (both rows read 配件 or 保温杯)."""

import csv
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from fenxiao.analytics.services import aggregates, reports
from fenxiao.analytics.services.periods import Period
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.testing import login, make_buyer, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins():
    """配件 under 服饰 and under 数码, each with a product named 保温杯."""
    clothes, digital = make_category("服饰"), make_category("数码")
    worn = make_product("保温杯", category=make_category("配件", parent=clothes), price=3000)
    wired = make_product("保温杯", category=make_category("配件", parent=digital), price=5000)
    buy(make_buyer(), (sku(worn), 1), (sku(wired), 2))
    aggregates.refresh()
    return {"worn": worn, "wired": wired}


def sections():
    today = timezone.localdate()
    return {r.key: r for r in reports.build("sales", Period(today, today), {})}


def lines_of(reply, fmt):
    if fmt == "csv":
        return list(csv.reader(io.StringIO(reply.content.decode("utf-8").lstrip("\ufeff"))))
    sheet = load_workbook(io.BytesIO(reply.content)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_rows_of_the_same_name_are_told_apart(twins):
    got = sections()
    categories = {r["name"]: r["sales"] for r in got["sales-by-category"].table.rows}
    assert categories == {"数码 小计": 10000, "数码/配件": 10000, "服饰 小计": 3000, "服饰/配件": 3000}
    worn, wired = twins["worn"], twins["wired"]
    for key in ("sales-by-product", "top-products"):
        rows = {r["code"]: (r["name"], r["sales"]) for r in got[key].table.rows}
        assert rows == {wired.pk: ("保温杯", 10000), worn.pk: ("保温杯", 3000)}
    # The bars of the top ten say which is which too.
    assert got["top-products"].chart.labels == [f"保温杯（ID {wired.pk}）", f"保温杯（ID {worn.pk}）"]


def test_the_page_links_each_product_to_its_own_page(twins):
    html = login(make_staff("boss", superuser=True)).get("/backend/data/sales/?range=today").content.decode()
    section = html[html.index('data-report="sales-by-product"') :]
    section = section[: section.index("</table>")]
    for product in (twins["wired"], twins["worn"]):
        link = f'<a href="/backend/catalog/product/{product.pk}/change/"'
        assert re.search(rf"{link}[^>]*>保温杯</a></td>\s*<td[^>]*>{product.pk}</td>", section)
    assert "数码/配件" in html and "服饰/配件" in html


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_files_tell_them_apart_too(twins, fmt):
    client = login(make_staff("boss", superuser=True))
    base = f"/backend/data/sales/export/{fmt}/?range=today&report="
    lines = lines_of(client.get(base + "sales-by-product"), fmt)
    assert lines[0][:3] == ["商品", "商品ID", "订单数"]
    assert [line[:2] for line in lines[1:]] == [
        ["保温杯", str(twins["wired"].pk)],
        ["保温杯", str(twins["worn"].pk)],
    ]
    if fmt == "xlsx":  # the id is a number cell, as in the other exports, not text
        sheet = load_workbook(io.BytesIO(client.get(base + "sales-by-product").content)).active
        assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
            twins["wired"].pk,
            twins["worn"].pk,
        ]
    lines = lines_of(client.get(base + "sales-by-category"), fmt)
    assert [line[0] for line in lines[1:]] == ["数码 小计", "数码/配件", "服饰 小计", "服饰/配件"]
