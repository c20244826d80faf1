"""A shop with more products (or distributors) than the longest ranking, 200, gets every
row on request: 排行条数 offers 全部, and the page, its CSV/Excel file and the staff API then
carry every product sold in the period (a merchant with 500 products could export 200)."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.analytics.models import ProductDay
from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.testing import api_for, login, make_staff

pytestmark = pytest.mark.django_db

PRODUCTS = 230


@pytest.fixture
def sold():
    """230 products, each sold yesterday (product n for n yuan)."""
    yesterday = timezone.localdate() - timedelta(days=1)
    ProductDay.objects.bulk_create(
        [
            ProductDay(day=yesterday, product_id=n, orders=1, units=1, sales=n * 100)
            for n in range(1, PRODUCTS + 1)
        ]
    )


def operations():
    from django.contrib.auth.models import Group

    ensure_staff_groups()
    user = make_staff(OPERATIONS)
    user.groups.add(Group.objects.get(name=OPERATIONS))
    return user


def test_every_product_on_request(sold):
    user = operations()
    client = login(user)
    html = client.get("/backend/data/sales/?range=7d&limit=all").content.decode()
    assert '<option value="all" selected>全部</option>' in html
    assert "按实付金额排序，期内有销售的全部商品。" in html
    section = html[html.index('data-report="sales-by-product"') :]
    section = section[: section.index("</table>")]
    assert section.count("<tr>") == 1 + PRODUCTS  # the header and every product
    export = re.search(r'href="([^"]+)"[^>]*data-export="csv"', section.replace("&amp;", "&"))
    assert export is None or "limit=all" in export.group(1)
    reply = client.get("/backend/data/sales/export/csv/?range=7d&limit=all&report=sales-by-product")
    assert reply.status_code == 200
    lines = list(csv.reader(io.StringIO(reply.content.decode("utf-8").lstrip("\ufeff"))))
    assert len(lines) == 1 + PRODUCTS
    assert lines[1][4] == f"{PRODUCTS}.00" and lines[-1][4] == "1.00"  # best-selling first
    # The numbered lengths are as before.
    reply = client.get("/backend/data/sales/export/csv/?range=7d&limit=200&report=sales-by-product")
    assert len(reply.content.decode("utf-8").strip().splitlines()) == 1 + 200
    for key in ("distribution", "traffic"):
        assert client.get(f"/backend/data/{key}/?range=7d&limit=all").status_code == 200

    data = api_for(user).get("/staff/reports/sales", range="7d", limit="all")
    assert data.status_code == 200
    (section,) = [s for s in data.json()["sections"] if s["key"] == "sales-by-product"]
    assert len(section["table"]["rows"]) == PRODUCTS


def test_other_lengths_are_still_refused():
    client = login(operations())
    reply = client.get("/backend/data/sales/?range=7d&limit=ALL")
    assert reply.status_code == 400
    assert "排行条数应为 1 至 200，或 all（全部）" in reply.content.decode()
