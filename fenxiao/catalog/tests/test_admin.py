"""The merchant backend for categories and products: yuan in, fen stored, rules by services."""

import io
import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from fenxiao.catalog.models import Category, Product, ProductImage, Sku
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import make_address, make_buyer, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db

ADD = "/backend/catalog/product/add/"


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


def png(name="cover.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def product_form(category, *, specs=(), rows=(), gallery=(), **fields) -> dict:
    """POST data for the product page: the product, its spec matrix (JSON, as the editor
    posts it) and its gallery order."""
    data = {
        "name": "纯棉T恤",
        "subtitle": "透气",
        "category": str(category.pk),
        "description": "<p>好</p>",
        "list_now": "on",
        "sku_matrix": json.dumps({"specs": list(specs), "rows": list(rows)}, ensure_ascii=False),
        "gallery_order": json.dumps(list(gallery)),
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def sku_row(code="TS-1", price="49.90", specs=None, **extra):
    row = {
        "specs": specs if specs is not None else {},
        "code": code,
        "price": price,
        "list_price": "59.9",
        "stock": "10",
        "weight_grams": "200",
    }
    row.update(extra)
    return row


def existing_row(sku: Sku, **changes):
    row = {
        "id": sku.pk,
        "specs": sku.specs,
        "code": sku.code,
        "price": f"{sku.price // 100}.{sku.price % 100:02d}",
        "list_price": f"{sku.list_price // 100}.{sku.list_price % 100:02d}" if sku.list_price else "",
        "stock": str(sku.stock),
        "stock_seen": str(sku.stock),
        "weight_grams": str(sku.weight_grams),
    }
    row.update(changes)
    return row


# --- pages ----------------------------------------------------------------------------------


def test_product_and_category_pages_open(boss):
    parent = make_category("服装")
    product = make_product("卫衣", category=make_category("男装", parent=parent))
    ProductImage.objects.create(product=product, image=png(), sort_order=0)
    for path in (
        reverse("admin:catalog_product_changelist"),
        ADD,
        reverse("admin:catalog_product_change", args=[product.pk]),
        reverse("admin:catalog_category_changelist"),
        reverse("admin:catalog_category_add"),
        reverse("admin:catalog_category_change", args=[parent.pk]),
    ):
        assert boss.get(path).status_code == 200, path
    body = boss.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert "¥99.00" in body and "卫衣" in body and "<img" in body
    for query in (
        {"q": "卫衣"},
        {"q": "SKU"},
        {"category__id__exact": str(parent.pk)},
        {"is_listed__exact": "1"},
        {"o": "4"},
        {"o": "-3"},
        {"category__id__exact": "abc"},
    ):
        assert boss.get(reverse("admin:catalog_product_changelist"), query, follow=True).status_code == 200


def test_category_list_reads_as_a_tree(boss):
    shoes = make_category("鞋靴")
    clothes = make_category("服装")
    Category.objects.filter(pk=clothes.pk).update(sort_order=0)
    Category.objects.filter(pk=shoes.pk).update(sort_order=5)
    make_category("运动鞋", parent=shoes)
    make_category("男装", parent=clothes)
    body = boss.get(reverse("admin:catalog_category_changelist")).content.decode()
    positions = [body.index(name) for name in ("服装", "男装", "鞋靴", "运动鞋")]
    assert positions == sorted(positions)


# --- creating a product ----------------------------------------------------------------------


def test_create_product_in_yuan_sanitised_and_listed(boss):
    category = make_category()
    data = product_form(
        category,
        description='<p onclick="x()">好</p><script>alert(1)</script>',
        specs=[{"name": "颜色", "values": ["红色", "黑色"]}],
        rows=[
            sku_row(specs={"颜色": "红色"}),
            sku_row("TS-2", price="0.01", list_price="", specs={"颜色": "黑色"}),
        ],
        gallery=["new:0"],
        gallery_files=png(),
    )
    response = boss.post(ADD, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    product = Product.objects.get(name="纯棉T恤")
    first, second = product.skus.order_by("id")
    assert (first.price, first.list_price, first.stock) == (4990, 5990, 10)
    assert first.specs == {"颜色": "红色"}
    assert (second.price, second.list_price, second.specs) == (1, 0, {"颜色": "黑色"})
    assert "<script" not in product.description and "onclick" not in product.description
    assert "好" in product.description
    assert (product.price, product.is_listed) == (1, True)  # summary refreshed
    image = product.images.get()
    assert image.image.name.startswith(f"products/{product.pk}/")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": "abc"}, "格式有误"),
        ({"price": "0"}, "售价必须大于0"),
        ({"price": ""}, "请填写售价"),
        ({"price": "-1"}, "金额不能为负数"),
        ({"price": "49.901"}, "格式有误"),
        ({"price": "1e999999"}, "格式有误"),
        ({"price": "99999999999"}, "超出范围"),
        ({"list_price": "10.00"}, "划线价不能低于售价"),
        ({"stock": "-1"}, "库存不能为负数"),
        ({"stock": "x"}, "库存必须是整数"),
        ({"code": "X" * 41}, "最多40个字符"),
    ],
)
def test_bad_sku_input_saves_nothing(boss, changes, message):
    category = make_category()
    response = boss.post(ADD, product_form(category, rows=[sku_row(**changes)]))
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert body.count("售价必须大于0") == (message == "售价必须大于0")  # one message per problem
    assert not Product.objects.exists()
    assert not Sku.objects.exists()


def test_duplicate_sku_code_is_a_form_error(boss):
    make_product().skus.update(code="DUP")
    response = boss.post(ADD, product_form(make_category(), rows=[sku_row("DUP")]))
    assert response.status_code == 200
    assert "SKU编码已被其他商品使用：DUP" in response.content.decode()
    assert Product.objects.count() == 1


# --- editing -------------------------------------------------------------------------------


def test_edit_price_keeps_sales_and_stock_moved_meanwhile(boss):
    product = make_product(price=9900, stock=10)
    sku = product.skus.get()
    page = reverse("admin:catalog_product_change", args=[product.pk])
    assert boss.get(page).status_code == 200
    form = product_form(product.category, name="新名字", rows=[existing_row(sku, price="39.9")])
    # While the page was open, two were sold.
    Sku.objects.filter(pk=sku.pk).update(stock=8)
    Product.objects.filter(pk=product.pk).update(sales_count=2)
    response = boss.post(page, form)
    assert response.status_code == 302, response.context and response.context["errors"]
    product.refresh_from_db()
    sku.refresh_from_db()
    assert (product.name, product.price, product.sales_count) == ("新名字", 3990, 2)
    assert (sku.price, sku.stock) == (3990, 8)


def test_stock_change_applies_the_difference_typed(boss):
    product = make_product(stock=10)
    sku = product.skus.get()
    page = reverse("admin:catalog_product_change", args=[product.pk])
    Sku.objects.filter(pk=sku.pk).update(stock=8)  # sold 2 since the page showed 10
    form = product_form(product.category, rows=[existing_row(sku, stock="15", stock_seen="10")])
    assert boss.post(page, form).status_code == 302
    sku.refresh_from_db()
    assert sku.stock == 13

    form = product_form(
        product.category, name="不该保存", rows=[existing_row(sku, stock="0", stock_seen="20")]
    )
    response = boss.post(page, form)
    assert response.status_code == 200  # the page again, as posted, with the reason
    sku.refresh_from_db()
    product.refresh_from_db()
    assert sku.stock == 13  # taking 20 from 13 is refused, not clipped
    assert product.name != "不该保存"  # and nothing else of that save was kept
    body = response.content.decode()
    assert "商品未保存" in body and "库存未调整" in body and "不该保存" in body


def test_a_refused_save_comes_back_as_typed_with_stock_read_again(boss):
    """A save refused while saving (stock sold meanwhile) shows the page again with what was
    typed, not the saved product: each row's typed change is carried onto its stock now, and
    the row that could not take it shows its stock now, so saving again does what was meant."""
    product = make_product(specs_list=[{"颜色": "白"}, {"颜色": "黑"}], stock=10)
    white, black = product.skus.order_by("pk")
    page = reverse("admin:catalog_product_change", args=[product.pk])
    rows = [existing_row(white, stock="15"), existing_row(black, stock="0")]  # +5, -10
    Sku.objects.filter(pk__in=[white.pk, black.pk]).update(stock=8)  # 2 of each sold meanwhile
    form = product_form(
        product.category, name="新名字", specs=[{"name": "颜色", "values": ["白", "黑"]}], rows=rows
    )

    response = boss.post(page, form)

    assert response.status_code == 200
    assert "已按当前库存更新，请核对后重新保存" in response.content.decode()
    assert "新名字" in response.content.decode()
    shown = json.loads(response.context["adminform"].form["sku_matrix"].value())
    assert [(r["stock"], r["stock_seen"]) for r in shown["rows"]] == [(13, 8), (8, 8)]
    assert set(Sku.objects.values_list("stock", flat=True)) == {8}

    again = boss.post(page, {**form, "sku_matrix": json.dumps(shown, ensure_ascii=False)})
    assert again.status_code == 302
    assert list(product.skus.order_by("pk").values_list("stock", flat=True)) == [13, 8]
    product.refresh_from_db()
    assert product.name == "新名字"


def test_sku_with_orders_is_switched_off_not_deleted(boss):
    product = make_product(stock=5, specs_list=[{"颜色": "红色"}, {"颜色": "蓝色"}])
    red, blue = product.skus.order_by("pk")
    buyer = make_buyer()
    place_order(buyer, [(red.pk, 1)], address_id=make_address(buyer).pk)
    red.refresh_from_db()
    page = reverse("admin:catalog_product_change", args=[product.pk])
    form = product_form(
        product.category,
        specs=[{"name": "颜色", "values": ["蓝色"]}],
        rows=[existing_row(blue)],
    )
    response = boss.post(page, form)
    assert response.status_code == 302, response.context and response.context["errors"]
    red.refresh_from_db()
    assert red.is_active is False and Sku.objects.filter(pk=red.pk).exists()
    delete = boss.post(reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"})
    assert delete.status_code == 200
    assert Product.objects.filter(pk=product.pk).exists()


# --- listing ---------------------------------------------------------------------------------


def test_bulk_list_and_delist(boss):
    good = make_product(listed=False)
    empty = make_product(listed=False)
    empty.skus.update(is_active=False)
    changelist = reverse("admin:catalog_product_changelist")
    response = boss.post(changelist, {"action": "list_selected", "_selected_action": [good.pk, empty.pk]})
    assert response.status_code == 302
    good.refresh_from_db()
    empty.refresh_from_db()
    assert (good.is_listed, empty.is_listed) == (True, False)
    assert any(empty.name in text for text in texts(response))
    boss.post(changelist, {"action": "delist_selected", "_selected_action": [good.pk]})
    good.refresh_from_db()
    assert good.is_listed is False


def test_staff_without_product_permission_cannot_list():
    product = make_product(listed=False)
    viewer = Client()
    viewer.force_login(make_staff(perms=["catalog.view_product"]))
    response = viewer.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "list_selected", "_selected_action": [product.pk]},
    )
    assert response.status_code in (200, 302, 403)
    product.refresh_from_db()
    assert product.is_listed is False


# --- categories ------------------------------------------------------------------------------


def test_category_cannot_move_under_its_own_child(boss):
    parent = make_category("服装")
    child = make_category("男装", parent=parent)
    page = reverse("admin:catalog_category_change", args=[parent.pk])
    response = boss.post(
        page, {"name": "服装", "parent": str(child.pk), "sort_order": "0", "is_active": "on"}
    )
    assert response.status_code == 200
    assert "自己的下级分类" in response.content.decode()
    parent.refresh_from_db()
    assert parent.parent_id is None
    itself = boss.post(page, {"name": "服装", "parent": str(parent.pk), "sort_order": "0"})
    assert itself.status_code == 200
    parent.refresh_from_db()
    assert parent.parent_id is None
    ok = boss.post(
        reverse("admin:catalog_category_change", args=[child.pk]),
        {"name": "男士", "parent": "", "sort_order": "3", "is_active": "on"},
    )
    assert ok.status_code == 302
    child.refresh_from_db()
    assert (child.name, child.parent_id, child.sort_order) == ("男士", None, 3)


def test_category_with_products_cannot_be_deleted(boss):
    product = make_product()
    response = boss.post(
        reverse("admin:catalog_category_delete", args=[product.category_id]), {"post": "yes"}
    )
    assert response.status_code == 200
    assert Category.objects.filter(pk=product.category_id).exists()


def test_too_many_pictures_is_a_form_error_that_keeps_what_was_typed(boss):
    """More than 15 pictures is refused while checking the form: the page comes back with
    the error and with the name, description and specs as typed (a refusal found only while
    saving sent the merchant to an empty page)."""
    category = make_category()
    form = product_form(
        category,
        name="十六张图的新品",
        description="<p>写了很久的详情</p>",
        rows=[sku_row(code="NEW-1")],
        gallery_files=[png(f"p{i}.png") for i in range(16)],
    )

    response = boss.post(reverse("admin:catalog_product_add"), form)

    assert response.status_code == 200
    body = response.content.decode()
    assert "商品图片最多15张" in body
    assert "十六张图的新品" in body and "写了很久的详情" in body and "NEW-1" in body
    assert not Product.objects.filter(name="十六张图的新品").exists()

    product = make_product()
    kept = [ProductImage.objects.create(product=product, image=png(f"k{i}.png")) for i in range(14)]
    page = reverse("admin:catalog_product_change", args=[product.pk])
    sku = product.skus.get()
    edited = product_form(
        product.category,
        name="改了名字",
        rows=[existing_row(sku)],
        gallery=[f"id:{image.pk}" for image in kept] + ["new:0", "new:1"],
        gallery_files=[png("a.png"), png("b.png")],
    )
    response = boss.post(page, edited)
    assert response.status_code == 200
    assert "商品图片最多15张" in response.content.decode() and "改了名字" in response.content.decode()
    assert ProductImage.objects.filter(product=product).count() == 14


def test_the_category_page_says_hiding_keeps_its_products_on_sale(boss):
    men = make_category("男装")
    body = boss.get(reverse("admin:catalog_category_change", args=[men.pk])).content.decode()
    assert "其中已上架的商品照常销售" in body and "要停售请在商品列表中下架" in body


def test_history_names_only_what_the_save_changed(boss):
    from django.contrib.admin.models import LogEntry

    product = make_product("T恤", specs_list=[{"颜色": "白"}, {"颜色": "黑"}])
    Product.objects.filter(pk=product.pk).update(subtitle="透气", description="<p>好</p>")
    picture = ProductImage.objects.create(product=product, image=png())
    rows = [existing_row(sku) for sku in product.skus.order_by("pk")]
    specs = [{"name": "颜色", "values": ["白", "黑"]}]
    page = reverse("admin:catalog_product_change", args=[product.pk])

    def saved(**changes) -> str:
        form = product_form(
            product.category, name="T恤", specs=specs, gallery=[f"id:{picture.pk}"], **changes
        )
        assert boss.post(page, form).status_code == 302
        return LogEntry.objects.filter(object_id=str(product.pk)).latest("pk").get_change_message()

    assert saved(rows=rows, subtitle="更透气") == "已修改卖点。"
    rows[0]["price"] = "39.90"
    assert saved(rows=rows, subtitle="更透气") == "已修改规格与库存。"
    assert saved(rows=rows, subtitle="更透气", description="<p>更好</p>") == "已修改商品详情。"


def test_a_category_name_must_address_one_category_in_an_import_file(boss):
    """The import and export name a category by its path (服装/男装): a second 男装 under 服装,
    or a name holding a separator, would leave a path that names two categories or none."""
    clothes = Category.objects.create(name="服装")
    men = Category.objects.create(name="男装", parent=clothes)
    add = reverse("admin:catalog_category_add")

    twin = boss.post(add, {"name": " 男装 ", "parent": str(clothes.pk), "sort_order": "0", "is_active": "on"})
    assert twin.status_code == 200
    assert "“服装”下已有名为“男装”的分类" in twin.content.decode()
    top = boss.post(add, {"name": "服装", "parent": "", "sort_order": "0", "is_active": "on"})
    assert "已有名为“服装”的一级分类" in top.content.decode()
    slash = boss.post(add, {"name": "T恤/Polo", "parent": str(men.pk), "sort_order": "0", "is_active": "on"})
    assert "分类名称不能包含 /" in slash.content.decode()
    assert Category.objects.count() == 2

    # The same name elsewhere in the tree is fine, and a category keeps its own name.
    elsewhere = boss.post(add, {"name": "男装", "parent": "", "sort_order": "0", "is_active": "on"})
    assert elsewhere.status_code == 302
    same = boss.post(
        reverse("admin:catalog_category_change", args=[men.pk]),
        {"name": "男装", "parent": str(clothes.pk), "sort_order": "5", "is_active": "on"},
    )
    assert same.status_code == 302
