"""库存预警: the product list filtered by 库存低于 N (where the to-do links) names, under each
row's 可售库存, the SKUs that are low and their stock, lowest first, so the merchant sees what
to restock without opening every product; in the same number of queries for any page."""

import re

import pytest
from django.urls import reverse

from fenxiao.catalog.models import Sku
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db

LIST = reverse("admin:catalog_product_changelist")
WARNING = {"is_listed__exact": "1", "stock_below": "10"}


@pytest.fixture
def boss():
    return login(make_staff(superuser=True))


def low_line(body: str, product) -> str:
    row = body[body.index(product.name) :]
    found = re.search(r"data-low-skus>([^<]*)<", row)
    return found.group(1) if found else ""


def stocked(name, stocks: dict[str, int], active=None):
    product = make_product(name, specs_list=[{"颜色": colour} for colour in stocks])
    for sku in Sku.objects.filter(product=product):
        sku.stock = stocks[sku.specs["颜色"]]
        sku.is_active = (active or {}).get(sku.specs["颜色"], True)
        sku.save(update_fields=["stock", "is_active"])
    return product


def test_each_row_names_its_low_skus_lowest_first(boss):
    tee = stocked("T恤", {"白色": 50, "黑色": 3, "蓝色": 0})
    mug = make_product("马克杯", stock=4)
    many = stocked("袜子", {"红": 1, "黄": 2, "绿": 3, "紫": 4, "灰": 80})
    off = stocked("围巾", {"米色": 1, "驼色": 30}, active={"米色": False})

    body = boss.get(LIST, WARNING).content.decode()

    assert low_line(body, tee) == "蓝色 0 件、黑色 3 件"
    assert low_line(body, mug) == "默认规格 4 件"
    assert low_line(body, many) == "红 1 件、黄 2 件、绿 3 件 等 4 个规格"
    assert off.name not in body  # a SKU switched off is not for sale: nothing to restock


def test_the_plain_list_shows_the_total_alone(boss):
    tee = stocked("T恤", {"白色": 50, "黑色": 3})
    body = boss.get(LIST).content.decode()
    assert tee.name in body and "data-low-skus" not in body


def test_the_warning_list_costs_the_same_queries_for_more_rows(boss, django_assert_max_num_queries):
    for i in range(3):
        stocked(f"A{i}", {"白色": 1, "黑色": 2})
    with django_assert_max_num_queries(30) as few:
        assert boss.get(LIST, WARNING).status_code == 200
    for i in range(20):
        stocked(f"B{i}", {"白色": 1, "黑色": 2})
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert boss.get(LIST, WARNING).status_code == 200
