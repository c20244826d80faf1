"""The product editor's rules: sanitised rich text, the spec matrix, pictures, copy, list
tabs and batch price/stock — through the services and through the backend pages."""

import io
import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from fenxiao.catalog.errors import CatalogInvalid
from fenxiao.catalog.models import Product, ProductImage, Sku
from fenxiao.catalog.services.batch_edit import batch_change
from fenxiao.catalog.services.copying import copy_product
from fenxiao.catalog.services.images import save_gallery
from fenxiao.catalog.services.products import sanitize_description
from fenxiao.catalog.services.spec_matrix import parse_matrix, save_matrix
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import make_address, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

LIST = "/backend/catalog/product/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def boss():
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def picture(name="p.png", fmt="PNG", size=(8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def matrix(specs, rows) -> str:
    return json.dumps({"specs": specs, "rows": rows}, ensure_ascii=False)


def row(specs, price="10", code="", stock="5", **extra):
    return {"specs": specs, "price": price, "code": code, "stock": stock, **extra}


# --- rich text --------------------------------------------------------------------------------

EDITOR_OUTPUT = (
    '<h2 class="ql-align-center">夏季新品</h2>'
    "<p>面料 <strong>纯棉</strong> <em>透气</em> <u>柔软</u> <s>旧价</s><br></p>"
    "<ul><li>S 码</li><li>M 码</li></ul><ol><li>一</li></ol><blockquote>洗涤：冷水</blockquote>"
    '<h3>细节</h3><p class="ql-align-right">'
    '<img src="/media/products/description/a.png" alt="图" width="300"></p>'
    '<p><a href="https://example.com/size" rel="noopener noreferrer nofollow">尺码表</a></p>'
)


def test_sanitiser_keeps_what_the_editor_produces():
    assert sanitize_description(EDITOR_OUTPUT) == EDITOR_OUTPUT


@pytest.mark.parametrize(
    ("dirty", "gone"),
    [
        ("<p>a</p><script>alert(1)</script>", "<script"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<img src="data:image/svg+xml;base64,PHN2Zz4=">', "data:"),
        ('<p style="position:fixed">x</p>', "style="),
        ('<p class="evil ql-align-center">x</p>', "evil"),
        ("<iframe src='https://x'></iframe>", "iframe"),
    ],
)
def test_sanitiser_removes_scripts_handlers_and_bad_urls(dirty, gone):
    assert gone not in sanitize_description(dirty)


def test_description_picture_upload_is_checked_and_staff_only(boss):
    url = reverse("admin:catalog_product_upload_image")
    response = boss.post(url, {"image": picture()})
    assert response.status_code == 200
    src = response.json()["url"]
    assert src.startswith("/media/products/description/") and src.endswith(".png")

    fake = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    refused = boss.post(url, {"image": fake})
    assert refused.status_code == 400 and refused.json()["message"] == "“x.png”不是有效的图片"
    assert boss.post(url, {}).status_code == 400
    assert boss.get(url).status_code == 405

    outsider = Client()
    assert outsider.post(url, {"image": picture()}).status_code == 302  # to the login page
    viewer = Client()
    viewer.force_login(make_staff(perms=["catalog.view_product"]))
    assert viewer.post(url, {"image": picture()}).status_code == 403


def test_h5_product_page_renders_description_pictures_within_the_screen(client):
    product = make_product("衬衫")
    Product.objects.filter(pk=product.pk).update(description=sanitize_description(EDITOR_OUTPUT))
    body = client.get(f"/products/{product.pk}/").content.decode()
    assert "夏季新品" in body and 'src="/media/products/description/a.png"' in body
    from pathlib import Path

    css = Path(__file__).resolve().parents[2] / "storefront/static/storefront/app.css"
    text = css.read_text()
    assert "img { max-width: 100%" in text and ".description .ql-align-center" in text


# --- spec matrix ------------------------------------------------------------------------------


def test_matrix_generates_every_combination_and_refuses_gaps():
    specs = [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["S", "M", "L"]}]
    rows = [row({"颜色": c, "尺码": s}) for c in ("红", "蓝") for s in ("S", "M", "L")]
    parsed = parse_matrix(matrix(specs, rows))
    assert [r.specs for r in parsed.rows][:2] == [{"颜色": "红", "尺码": "S"}, {"颜色": "红", "尺码": "M"}]
    with pytest.raises(CatalogInvalid, match="缺少这一行"):
        parse_matrix(matrix(specs, rows[:-1]))


@pytest.mark.parametrize(
    ("specs", "rows", "message"),
    [
        ([{"name": "颜色", "values": ["红", ""]}], [row({"颜色": "红"})], "有空的规格值"),
        ([{"name": "", "values": ["红"]}], [], "规格名不能为空"),
        ([{"name": "颜色", "values": []}], [], "至少需要一个规格值"),
        ([{"name": "颜色", "values": ["红", "红"]}], [row({"颜色": "红"})], "规格值重复：红"),
        (
            [{"name": "颜色", "values": ["红", "蓝"]}],
            [row({"颜色": "红"}, code="A"), row({"颜色": "蓝"}, code="A")],
            "SKU编码“A”重复",
        ),
        ([], [row({}, price="0")], "售价必须大于0"),
        ([], [row({}, price="10", list_price="9")], "划线价不能低于售价"),
    ],
)
def test_matrix_errors_are_in_chinese(specs, rows, message):
    with pytest.raises(CatalogInvalid, match=message):
        parse_matrix(matrix(specs, rows))


def test_matrix_save_creates_updates_deactivates_and_keeps_ids():
    product = make_product(specs_list=[{"颜色": "红"}, {"颜色": "蓝"}], price=1000, stock=5)
    red, blue = product.skus.order_by("pk")
    buyer = make_buyer()
    place_order(buyer, [(blue.pk, 1)], address_id=make_address(buyer).pk)  # blue has an order

    specs = [{"name": "颜色", "values": ["红", "绿"]}]
    rows = [
        row({"颜色": "红"}, price="12.50", code="NEW-RED", stock="9", stock_seen="5"),
        row({"颜色": "绿"}, price="8", list_price="9.90", stock="3"),
    ]
    result = save_matrix(product, parse_matrix(matrix(specs, rows)))
    assert (result.created, result.updated, result.deactivated) == (1, 1, 1)
    red.refresh_from_db()
    blue.refresh_from_db()
    green = product.skus.get(specs={"颜色": "绿"})
    assert (red.price, red.code, red.stock, red.is_active) == (1250, "NEW-RED", 9, True)
    assert blue.is_active is False  # ordered: switched off, never deleted
    assert (green.price, green.list_price, green.stock, green.code) == (800, 990, 3, f"P{product.pk}-1")
    product.refresh_from_db()
    assert (product.price, product.list_price) == (800, 990)  # lowest active SKU

    # Blue comes back: the same SKU (and id) is switched on again.
    specs = [{"name": "颜色", "values": ["红", "绿", "蓝"]}]
    rows.append(row({"颜色": "蓝"}, price="11", code=blue.code))
    rows[0]["stock_seen"] = "9"
    save_matrix(product, parse_matrix(matrix(specs, rows)))
    blue.refresh_from_db()
    assert blue.is_active and blue.price == 1100
    assert product.skus.count() == 3


def test_renamed_spec_value_and_name_keep_their_skus():
    product = make_product(specs_list=[{"颜色": "红"}, {"颜色": "蓝"}], price=1000, stock=5)
    red, blue = product.skus.order_by("pk")
    specs = [{"name": "色彩", "values": ["酒红", "蓝"]}]
    rows = [
        row({"色彩": "酒红"}, id=red.pk, stock="5", stock_seen="5"),
        row({"色彩": "蓝"}, id=blue.pk, stock="5", stock_seen="5"),
    ]
    result = save_matrix(product, parse_matrix(matrix(specs, rows)))
    assert (result.created, result.updated, result.deactivated) == (0, 2, 0)
    red.refresh_from_db()
    assert (red.specs, red.is_active, red.stock) == ({"色彩": "酒红"}, True, 5)
    # An id from another product is ignored: that row becomes a new SKU here.
    stranger = make_product().skus.get()
    specs = [{"name": "色彩", "values": ["酒红", "蓝", "白"]}]
    rows.append(row({"色彩": "白"}, id=stranger.pk))
    result = save_matrix(product, parse_matrix(matrix(specs, rows)))
    assert result.created == 1
    stranger.refresh_from_db()
    assert stranger.product_id != product.pk and stranger.specs == {}


def test_matrix_codes_can_swap_and_are_unique_across_the_shop():
    product = make_product(specs_list=[{"颜色": "红"}, {"颜色": "蓝"}])
    red, blue = product.skus.order_by("pk")
    specs = [{"name": "颜色", "values": ["红", "蓝"]}]
    rows = [row({"颜色": "红"}, code=blue.code), row({"颜色": "蓝"}, code=red.code)]
    save_matrix(product, parse_matrix(matrix(specs, rows)))
    assert Sku.objects.get(pk=red.pk).code == blue.code
    other = make_product()
    taken = other.skus.get().code
    with pytest.raises(CatalogInvalid, match=f"SKU编码已被其他商品使用：{taken}"):
        save_matrix(product, parse_matrix(matrix(specs, [row({"颜色": "红"}, code=taken), rows[1]])))
    assert Sku.objects.get(pk=red.pk).code == blue.code  # nothing written


def test_adding_a_spec_turns_single_sku_into_combinations():
    product = make_product(price=500)
    plain = product.skus.get()
    specs = [{"name": "尺码", "values": ["S", "M"]}]
    save_matrix(product, parse_matrix(matrix(specs, [row({"尺码": "S"}), row({"尺码": "M"})])))
    plain.refresh_from_db()
    assert plain.is_active is False
    assert sorted(product.skus.filter(is_active=True).values_list("specs", flat=True), key=str) == [
        {"尺码": "M"},
        {"尺码": "S"},
    ]


# --- gallery ----------------------------------------------------------------------------------


def test_gallery_order_delete_and_upload():
    product = make_product()
    first = ProductImage.objects.create(product=product, image=picture("a.png"), sort_order=0)
    second = ProductImage.objects.create(product=product, image=picture("b.png"), sort_order=1)
    third = ProductImage.objects.create(product=product, image=picture("c.png"), sort_order=2)
    save_gallery(product, ["new:0", f"id:{third.pk}", f"id:{first.pk}"], [picture("d.jpg", "JPEG")])
    images = list(product.images.order_by("sort_order"))
    assert [img.pk for img in images[1:]] == [third.pk, first.pk]
    assert images[0].image.name.endswith(".jpg") and images[0].sort_order == 0
    assert not ProductImage.objects.filter(pk=second.pk).exists()
    with pytest.raises(CatalogInvalid, match="不是有效的图片"):
        save_gallery(product, [], [SimpleUploadedFile("x.gif", b"GIF89a-not-really")])
    assert product.images.count() == 3  # nothing written


# --- copy -------------------------------------------------------------------------------------


def test_copy_product_goes_to_the_warehouse_with_new_codes(boss):
    product = make_product("连衣裙", specs_list=[{"颜色": "红"}, {"颜色": "蓝"}], price=2000)
    Product.objects.filter(pk=product.pk).update(description="<p>详情</p>", sales_count=7)
    ProductImage.objects.create(product=product, image=picture(), sort_order=0)
    copy = copy_product(product)
    again = copy_product(product)
    assert (copy.name, copy.is_listed, copy.sales_count, copy.price) == ("连衣裙（复制）", False, 0, 2000)
    assert copy.description == "<p>详情</p>"
    codes = sorted(copy.skus.values_list("code", flat=True))
    assert codes == sorted(f"{c}-copy-1" for c in product.skus.values_list("code", flat=True))
    assert all(c.endswith("-copy-2") for c in again.skus.values_list("code", flat=True))
    image = copy.images.get()
    assert image.image.name != product.images.get().image.name and image.image.size > 0

    # The backend: a detail button opens a confirmation; confirming copies and opens the copy.
    page = reverse("admin:catalog_product_copy", args=[product.pk])
    assert "复制商品" in boss.get(reverse("admin:catalog_product_change", args=[product.pk])).content.decode()
    assert boss.get(page).status_code == 200
    response = boss.post(page, {})
    newest = Product.objects.order_by("-pk").first()
    assert response.status_code == 302 and response.url.endswith(f"/{newest.pk}/change/")
    assert newest.skus.count() == 2


# --- list: tabs, columns, query budget --------------------------------------------------------


def test_list_tabs_count_and_filter(boss):
    on_sale = make_product("在售T恤", stock=5)
    sold_out = make_product("售罄T恤", stock=0)
    make_product("仓库T恤", listed=False)
    make_product("在售裤子", stock=1)
    body = boss.get(LIST).content.decode()
    for label, count in (("全部", 4), ("出售中", 2), ("已售罄", 1), ("仓库中", 1)):
        assert f'{label}<span class="fx-count">{count}</span>' in body
    searched = boss.get(LIST, {"q": "T恤"}).content.decode()
    assert '出售中<span class="fx-count">1</span>' in searched  # counts follow the search
    tab = boss.get(LIST, {"q": "T恤", "tab": "sold_out"}).content.decode()
    assert sold_out.name in tab and on_sale.name not in tab
    assert 'href="?q=T%E6%81%A4&amp;tab=on_sale"' in tab  # tabs keep the search
    assert "已售罄" in tab and "¥99.00" in tab


def test_stock_warning_link_from_the_to_do_list_still_filters(boss):
    low = make_product("快卖完", stock=2)
    make_product("很充足", stock=50)
    response = boss.get(LIST, {"is_listed__exact": "1", "stock_below": "5"})
    body = response.content.decode()
    assert response.status_code == 200 and low.name in body and "很充足" not in body


def test_list_price_range_and_status_columns(boss):
    product = make_product("套装", specs_list=[{"款": "A"}, {"款": "B"}], price=1000)
    Sku.objects.filter(product=product, specs={"款": "B"}).update(price=2500)
    body = boss.get(LIST).content.decode()
    assert "¥10.00 ~ ¥25.00" in body and "出售中" in body


def test_list_query_count_does_not_grow_with_rows(boss, django_assert_max_num_queries):
    for i in range(3):
        product = make_product(f"商品A{i}", specs_list=[{"色": "红"}, {"色": "蓝"}])
        ProductImage.objects.create(product=product, image=picture(), sort_order=0)
    with django_assert_max_num_queries(12) as few:
        assert boss.get(LIST).status_code == 200
    for i in range(30):
        product = make_product(f"商品B{i}", specs_list=[{"色": "红"}, {"色": "蓝"}])
        ProductImage.objects.create(product=product, image=picture(), sort_order=0)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        assert boss.get(LIST).status_code == 200
    print(
        f"product list: {len(few.captured_queries)} queries for 3 rows, {len(many.captured_queries)} for 33"
    )


# --- batch price / stock ----------------------------------------------------------------------


def test_batch_price_changes_all_active_skus_and_refreshes_price():
    a = make_product(specs_list=[{"色": "红"}, {"色": "蓝"}], price=1000, list_price=2000)
    b = make_product(price=3000)
    off = Sku.objects.create(product=b, code="OFF", price=100, stock=0, is_active=False)
    batch_change([a.pk, b.pk], "price_up_pct", 1050)  # +10.5 %
    assert sorted(Sku.objects.filter(is_active=True).values_list("price", flat=True)) == [1105, 1105, 3315]
    off.refresh_from_db()
    assert off.price == 100  # switched-off SKUs are left alone
    batch_change([a.pk], "price_down", 105)
    batch_change([b.pk], "price_set", 1999)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.price, b.price) == (1000, 1999)
    batch_change([a.pk, b.pk], "stock_add", -50)
    assert set(Sku.objects.filter(is_active=True).values_list("stock", flat=True)) == {50}
    batch_change([a.pk], "stock_set", 7)
    assert set(a.skus.values_list("stock", flat=True)) == {7}


@pytest.mark.parametrize(
    ("operation", "value", "message"),
    [
        ("price_down", 1000, "售价须大于 ¥0"),
        ("price_up", 1500, "不高于划线价"),
        ("price_down_pct", 10000, "小于100%"),
        ("stock_add", -6, "库存不能为负数"),
    ],
)
def test_batch_refusal_names_offenders_and_writes_nothing(operation, value, message):
    fine = make_product("便宜货", price=5000, stock=100)
    bad = make_product("问题商品", price=1000, list_price=2000, stock=5)
    before = list(Sku.objects.order_by("pk").values_list("price", "stock"))
    with pytest.raises(CatalogInvalid, match=message) as refused:
        batch_change([fine.pk, bad.pk], operation, value)
    if operation != "price_down_pct":
        assert "问题商品" in refused.value.message and "便宜货" not in refused.value.message
    assert list(Sku.objects.order_by("pk").values_list("price", "stock")) == before


def test_batch_page_in_the_backend(boss):
    a = make_product("甲", price=1000, stock=3)
    b = make_product("乙", price=2000, stock=3)
    chosen = {"action": "batch_price_stock", "_selected_action": [a.pk, b.pk]}
    page = boss.post(LIST, chosen)
    assert page.status_code == 200 and "批量改价 / 改库存" in page.content.decode()
    refused = boss.post(LIST, {**chosen, "_apply": "1", "operation": "price_down", "amount": "15"})
    assert (
        refused.status_code == 200
        and "甲" in refused.content.decode()
        and "未做任何修改" in refused.content.decode()
    )
    bad_input = boss.post(LIST, {**chosen, "_apply": "1", "operation": "price_set", "amount": "abc"})
    assert bad_input.status_code == 200 and "数值格式有误" in bad_input.content.decode()
    done = boss.post(LIST, {**chosen, "_apply": "1", "operation": "price_set", "amount": "9.9"})
    assert done.status_code == 302
    assert any("已修改 2 个商品的 2 个规格" in t for t in texts(done))
    a.refresh_from_db()
    assert a.price == 990


def test_copy_selected_from_the_list(boss):
    a = make_product("甲")
    b = make_product("乙")
    response = boss.post(LIST, {"action": "copy_selected", "_selected_action": [a.pk, b.pk]})
    assert response.status_code == 302
    assert any("已复制 2 个商品到仓库中" in t for t in texts(response))
    assert set(Product.objects.filter(is_listed=False).values_list("name", flat=True)) == {
        "甲（复制）",
        "乙（复制）",
    }
