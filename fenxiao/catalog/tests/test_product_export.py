"""导出 of the product list: one row per SKU in exactly the import's columns (the template's
headers), prices as yuan text exact to the fen, the category as its path, pictures as
absolute URLs; the filtered list only; a fixed number of queries per chunk."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from fenxiao.catalog.models import Product, ProductImage
from fenxiao.catalog.services import product_import_columns as columns
from fenxiao.catalog.services.product_export import PRODUCTS
from fenxiao.shipping.models import ShippingTemplate
from fenxiao.testing import login, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db

EXPORT = "admin:catalog_product_export"


@pytest.fixture
def catalog(settings):
    settings.SITE_URL = "https://shop.example.com"
    women = make_category("女装", parent=make_category("服饰"))
    shirt = make_product(
        "纯棉T恤",
        category=women,
        price=5990,
        list_price=8900,
        stock=7,
        specs_list=[{"颜色": "白色", "尺码": "M"}, {"颜色": "黑色", "尺码": "L"}],
    )
    shirt.subtitle = "=透气"  # a spreadsheet must not run it
    shirt.description = "<p>100%纯棉</p>"
    shirt.shipping_template = ShippingTemplate.objects.create(name="普通快递", first_fee=800)
    shirt.save()
    ProductImage.objects.create(product=shirt, image="products/1/a.jpg", sort_order=0)
    black = ProductImage.objects.create(product=shirt, image="products/1/b.jpg", sort_order=1)
    shirt.skus.filter(specs={"颜色": "黑色", "尺码": "L"}).update(image=black)  # its 规格图
    mug = make_product("马克杯", price=1234, listed=False)
    return {"shirt": shirt, "mug": mug}


def read_csv(reply) -> tuple[list[str], list[dict]]:
    assert reply.status_code == 200
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_product_file_is_the_import_format(catalog):
    boss = login(make_staff("boss", superuser=True))
    headers, rows = read_csv(boss.get(reverse(EXPORT, args=["csv"]), {"q": "纯棉"}))
    assert headers == [columns.header_text(c) for c in columns.COLUMNS]
    assert len(rows) == 2  # the searched product's two SKUs, not the mug
    white, black = rows
    assert (white["商品名称*"], white["卖点"], white["分类*"]) == ("纯棉T恤", "'=透气", "服饰/女装")
    assert (white["规格1名"], white["规格1值"], white["规格2名"], white["规格2值"]) == (
        "颜色",
        "白色",
        "尺码",
        "M",
    )
    assert (white["规格3名"], white["规格3值"]) == ("", "")
    assert (white["售价(元)*"], white["划线价(元)"], white["库存*"]) == ("59.90", "89.00", "7")
    assert (white["上架"], white["SKU可售"], white["运费模板"]) == ("是", "是", "普通快递")
    assert white["图片"] == (
        "https://shop.example.com/media/products/1/a.jpg|https://shop.example.com/media/products/1/b.jpg"
    )
    assert white["详情"] == "<p>100%纯棉</p>"
    assert white["规格图"] == "" and black["规格图"] == "https://shop.example.com/media/products/1/b.jpg"
    assert black["规格1值"] == "黑色" and black["SKU编码*"] == catalog["shirt"].skus.order_by("pk")[1].code

    book = load_workbook(
        io.BytesIO(boss.get(reverse(EXPORT, args=["xlsx"]), {"is_listed__exact": "0"}).content)
    )
    values = list(book.active.values)
    assert values[0][0] == "商品名称*" and [v[0] for v in values[1:]] == ["马克杯"]
    mug = dict(zip(values[0], values[1], strict=True))
    assert (mug["售价(元)*"], mug["划线价(元)"], mug["上架"]) == ("12.34", None, "否")
    assert mug["运费模板"] == "默认运费"


def test_only_staff_who_see_products_export_them(catalog):
    assert login(make_staff("clerk")).get(reverse(EXPORT, args=["csv"])).status_code == 403
    viewer = login(make_staff("fin", perms=["catalog.view_product"]))
    assert viewer.get(reverse(EXPORT, args=["csv"])).status_code == 200


def test_reading_products_costs_the_same_queries_for_one_or_many(catalog):
    def count(queryset):
        with CaptureQueriesContext(connection) as captured:
            assert list(PRODUCTS.rows(queryset, None))
        return len(captured.captured_queries)

    one = count(Product.objects.filter(pk=catalog["mug"].pk))
    for _ in range(5):
        make_product(specs_list=[{"颜色": "红"}, {"颜色": "蓝"}])
    assert count(Product.objects.all()) == one <= 4


# --- the round trip with the product import ------------------------------------------------


def snapshot() -> dict:
    from fenxiao.catalog.models import Sku

    return {
        "products": list(
            Product.objects.order_by("pk").values_list(
                "pk",
                "name",
                "subtitle",
                "category_id",
                "description",
                "is_listed",
                "price",
                "list_price",
                "shipping_template_id",
            )
        ),
        "skus": [
            (pk, product, code, list(specs.items()), price, list_price, stock, weight, active)
            for pk, product, code, specs, price, list_price, stock, weight, active in Sku.objects.order_by(
                "pk"
            ).values_list(
                "pk",
                "product_id",
                "code",
                "specs",
                "price",
                "list_price",
                "stock",
                "weight_grams",
                "is_active",
            )
        ],
        "images": list(
            ProductImage.objects.order_by("pk").values_list("pk", "product_id", "image", "sort_order")
        ),
    }


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_unchanged_leaves_the_catalog_unchanged(catalog, settings, fmt):
    from fenxiao.catalog.services import product_import

    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    shirt, mug = catalog["shirt"], catalog["mug"]
    shirt.subtitle = "-50% 限时"  # starts like a formula: written with an apostrophe, read back without
    shirt.save()
    black = shirt.skus.order_by("pk")[1]
    black.is_active, black.weight_grams, black.list_price = False, 350, 0
    black.save()
    mug.description = "<p>陶瓷 &amp; 釉</p>"
    mug.save()
    make_product(
        "三规格", category=mug.category, specs_list=[{"颜色": "红", "尺码": "S", "款式": "短袖"}], price=1
    )
    before = snapshot()

    staff = make_staff("ops", perms=["catalog.add_product", "catalog.change_product", "catalog.view_product"])
    reply = login(staff).get(reverse(EXPORT, args=[fmt]))
    assert reply.status_code == 200
    data = reply.content

    plan = product_import.dry_run(data, f"商品.{fmt}")
    assert plan.errors == []
    counts = plan.counts
    assert (counts["products_new"], counts["skus_new"], counts["images_to_fetch"]) == (0, 0, 0)
    assert counts["skus_updated"] == len(before["skus"])
    job, _ = product_import.start(staff, data, f"商品.{fmt}")
    product_import.confirm(job, staff)
    job.refresh_from_db()
    assert job.status == "succeeded", (job.message, job.errors)
    assert snapshot() == before
