"""The product editor in a real browser (1280 px), as a 运营 staff member uses it: spec
values typed as tags generate the SKU grid, one bulk row prices them all, a picture goes into
the description through the editor's toolbar, the gallery takes two pictures, and the saved
product has exactly those SKUs."""

import io
import json

import pytest
from PIL import Image

from fenxiao.catalog.models import Product
from fenxiao.testing import make_category, make_product

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def merchant(operations_desk):
    operations_desk.name = "editor"
    return operations_desk


def png_bytes(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 120), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def add_spec(page, index: int, name: str, values: list[str]) -> None:
    page.get_by_role("button", name="+ 添加规格（如 颜色、尺码）").click()
    page.locator(".fx-spec-name").nth(index).fill(name)
    box = page.locator(".fx-spec-value").nth(index)
    for value in values:
        box.fill(value)
        box.press("Enter")
        box = page.locator(".fx-spec-value").nth(index)


def test_staff_builds_the_sku_grid_and_saves(merchant, transactional_db):
    category = make_category("服装")
    page = merchant.page
    page.goto("/backend/catalog/product/add/")
    page.locator("input[name=name]").fill("亚麻衬衫")
    page.locator("select[name=category]").select_option(str(category.pk))

    add_spec(page, 0, "颜色", ["白色", "蓝色"])
    add_spec(page, 1, "尺码", ["M", "L", "XL"])
    grid_rows = page.locator(".fx-grid tbody tr[data-row]")
    assert grid_rows.count() == 6
    assert page.locator(".fx-grid thead").inner_text().split("\t")[:2] == ["颜色", "尺码"]
    page.locator("[data-bulk=price]").fill("129")
    page.locator("[data-bulk=list_price]").fill("199")
    page.locator("[data-bulk=stock]").fill("30")
    page.get_by_role("button", name="批量设置", exact=True).click()
    assert grid_rows.nth(5).locator("[data-col=price]").input_value() == "129"
    grid_rows.nth(0).locator("[data-col=code]").fill("LINEN-WHITE-M")
    grid_rows.nth(0).locator("[data-col=price]").fill("119")

    editor = page.locator(".ql-editor")
    editor.click()
    page.keyboard.type("透气亚麻，夏天穿不闷。")
    with page.expect_file_chooser() as chooser:
        page.locator(".ql-toolbar .ql-image").click()
    chooser.value.set_files(
        files=[{"name": "detail.png", "mimeType": "image/png", "buffer": png_bytes("red")}]
    )
    editor.locator("img").wait_for()

    page.locator("input[name=gallery_files]").set_input_files(
        files=[
            {"name": "front.png", "mimeType": "image/png", "buffer": png_bytes("white")},
            {"name": "back.png", "mimeType": "image/png", "buffer": png_bytes("blue")},
        ]
    )
    assert page.locator(".fx-thumb").count() == 2
    # The back view should be the cover: drag it in front of the first picture.
    page.locator(".fx-thumb").nth(1).drag_to(
        page.locator(".fx-thumb").nth(0), target_position={"x": 5, "y": 40}
    )
    assert json.loads(page.locator("input[name=gallery_order]").input_value()) == ["new:1", "new:0"]
    page.screenshot(path="/tmp/editor-product-form.png", full_page=True)
    merchant.shot("product-form")

    page.locator("button[name=_save]").click()
    page.wait_for_url("**/backend/catalog/product/")
    page.get_by_text("亚麻衬衫").first.wait_for()

    product = Product.objects.get(name="亚麻衬衫")
    skus = {tuple(s.specs.values()): s for s in product.skus.filter(is_active=True)}
    assert len(skus) == 6
    assert skus[("白色", "M")].code == "LINEN-WHITE-M" and skus[("白色", "M")].price == 11900
    assert {s.price for key, s in skus.items() if key != ("白色", "M")} == {12900}
    assert {(s.list_price, s.stock) for s in skus.values()} == {(19900, 30)}
    assert product.price == 11900
    assert (
        "透气亚麻" in product.description and '<img src="/media/products/description/' in product.description
    )
    cover, second = product.images.order_by("sort_order")
    with cover.image.open("rb") as f:
        assert Image.open(f).convert("RGB").getpixel((5, 5)) == (0, 0, 255)  # the blue back view
    assert second.sort_order == 1

    make_product("售罄短裤", stock=0)
    make_product("仓库里的帽子", listed=False)
    page.goto("/backend/catalog/product/")
    page.locator(".fx-tabs").wait_for()
    assert "¥119.00 ~ ¥129.00" in page.locator("#result_list").inner_text()
    page.screenshot(path="/tmp/editor-product-list.png", full_page=True)
    merchant.shot("product-list")


def test_editing_keeps_the_grid_and_a_removed_value_switches_its_skus_off(merchant, transactional_db):
    product = make_product("帆布鞋", specs_list=[{"尺码": "38"}, {"尺码": "39"}], price=9900, stock=4)
    page = merchant.page
    page.goto(f"/backend/catalog/product/{product.pk}/change/")
    rows = page.locator(".fx-grid tbody tr[data-row]")
    assert rows.count() == 2
    assert rows.nth(0).locator("[data-col=price]").input_value() == "99.00"
    page.locator(".fx-tag", has_text="39").locator(".fx-tag-del").click()
    assert rows.count() == 1
    page.locator(".fx-tag span", has_text="38").dblclick()
    page.locator(".fx-tag-edit").fill("38码")
    page.locator(".fx-tag-edit").press("Enter")
    assert rows.nth(0).locator(".fx-spec-cell").inner_text() == "38码"
    assert rows.nth(0).locator("[data-col=price]").input_value() == "99.00"  # the row came along
    page.screenshot(path="/tmp/editor-product-edit.png", full_page=True)
    page.locator("button[name=_save]").click()
    page.wait_for_url("**/backend/catalog/product/")
    first = product.skus.order_by("pk").first()
    active = list(product.skus.filter(is_active=True).values_list("pk", "specs"))
    assert active == [(first.pk, {"尺码": "38码"})] and product.skus.count() == 2


def test_saved_description_fits_a_phone(phones, transactional_db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fenxiao.catalog.services.images import store_description_image
    from fenxiao.catalog.services.products import sanitize_description

    buffer = io.BytesIO()
    Image.new("RGB", (1600, 500), (220, 80, 40)).save(buffer, format="JPEG")
    src = store_description_image(SimpleUploadedFile("wide.jpg", buffer.getvalue()))
    product = make_product("宽图衬衫")
    html = (
        '<h2 class="ql-align-center">面料说明</h2>'
        "<p>Supercalifragilisticexpialidocious-linen-with-a-very-long-english-name-that-must-wrap</p>"
        f'<p class="ql-align-center"><img src="{src}" alt="细节"></p>'
        "<ul><li>透气</li><li>不起球</li></ul><blockquote>冷水手洗</blockquote>"
    )
    Product.objects.filter(pk=product.pk).update(description=sanitize_description(html))
    buyer = phones("buyer-description")
    page = buyer.page
    page.goto(f"/products/{product.pk}/")
    picture = page.locator(".description img")
    picture.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('.description img').complete")
    assert picture.evaluate("img => img.naturalWidth") == 1600
    assert picture.bounding_box()["width"] <= 375
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert page.locator(".description h2").evaluate("h => getComputedStyle(h).textAlign") == "center"
    page.screenshot(path="/tmp/editor-h5-description.png", full_page=True)
    buyer.shot("description")


def test_batch_price_from_the_list(merchant, transactional_db):
    cheap = make_product("纯棉袜", price=1500, list_price=1900, stock=8)
    dear = make_product("羊毛袜", price=3900, stock=8)
    page = merchant.page
    page.goto("/backend/catalog/product/")
    for product in (cheap, dear):
        page.locator(f"input.action-select[value='{product.pk}']").check()
    page.locator("select[name=action]").select_option("batch_price_stock")
    page.locator("button[name=index]").click()
    page.get_by_text("批量改价 / 改库存（已选 2 个商品）").wait_for()
    page.locator("select[name=operation]").select_option("price_up")
    page.locator("input[name=amount]").fill("5")
    page.get_by_role("button", name="确定修改").click()
    refusal = page.locator("#batch-errors")
    refusal.wait_for()
    assert "纯棉袜（SKU" in refusal.inner_text() and "改后售价 ¥20.00，划线价 ¥19.00" in refusal.inner_text()
    assert "羊毛袜" not in refusal.inner_text()
    page.screenshot(path="/tmp/editor-batch-refused.png", full_page=True)
    page.locator("select[name=operation]").select_option("price_down_pct")
    page.locator("input[name=amount]").fill("10")
    page.get_by_role("button", name="确定修改").click()
    page.get_by_text("已修改 2 个商品的 2 个规格").wait_for()
    cheap.refresh_from_db()
    dear.refresh_from_db()
    assert (cheap.price, dear.price) == (1350, 3510)


def test_staff_give_each_colour_its_picture_and_the_buyer_sees_it(merchant, phones, transactional_db):
    """规格图: in the editor each 颜色 value takes one of the saved pictures; on the phone,
    the colour choices show them and picking one turns the gallery to it."""
    from django.core.files.base import ContentFile

    from fenxiao.catalog.models import ProductImage

    product = make_product(
        "亚麻衬衫",
        specs_list=[{"颜色": c, "尺码": s} for c in ("白色", "蓝色") for s in ("M", "L")],
    )
    pictures = []
    for i, colour in enumerate(("gray", "white", "blue")):
        image = ProductImage(product=product, sort_order=i)
        image.image.save(f"{image.uuid}.png", ContentFile(png_bytes(colour)), save=False)
        image.save()
        pictures.append(image)
    cover, white, blue = pictures
    page = merchant.page
    page.goto(f"/backend/catalog/product/{product.pk}/change/")
    for value, image in (("白色", white), ("蓝色", blue)):
        page.locator(f'[data-picture-for="{value}"]').click()
        page.locator(f'.fx-pic-menu [data-picture="{image.pk}"]').click()
    assert page.locator('[data-picture-for="蓝色"] img').get_attribute("src") == blue.image.url
    rows = page.locator(".fx-grid tbody tr[data-row]")
    assert rows.nth(3).locator(".fx-spec-pic").get_attribute("src") == blue.image.url
    page.locator('[data-picture-for="白色"]').click()  # change of mind: none, then white again
    page.get_by_role("menuitem", name="不用图片").click()
    assert rows.nth(0).locator(".fx-spec-pic").count() == 0
    page.locator('[data-picture-for="白色"]').click()
    page.locator(f'.fx-pic-menu [data-picture="{white.pk}"]').click()
    page.locator('[data-picture-for="蓝色"]').click()  # the menu open for the screenshot
    merchant.shot("spec-pictures")
    page.keyboard.press("Escape")
    page.locator("button[name=_save]").click()
    page.wait_for_url("**/backend/catalog/product/")
    chosen = {(s.specs["颜色"], s.specs["尺码"]): s.image_id for s in product.skus.all()}
    assert chosen == {
        ("白色", "M"): white.pk,
        ("白色", "L"): white.pk,
        ("蓝色", "M"): blue.pk,
        ("蓝色", "L"): blue.pk,
    }
    assert product.images.count() == 3  # the gallery as it was

    buyer = phones("buyer-spec-pictures")
    h5 = buyer.page
    h5.goto(f"/products/{product.pk}/")
    gallery = h5.locator(".gallery")
    assert gallery.evaluate("g => g.scrollLeft") == 0  # the cover first
    h5.locator(".spec-group label", has_text="蓝色").click()
    h5.wait_for_function("(g => g.scrollLeft >= 2 * g.clientWidth - 2)(document.querySelector('.gallery'))")
    h5.locator(".spec-group label", has_text="L").click()
    assert h5.locator("input[name=sku]").input_value() == str(
        product.skus.get(specs={"颜色": "蓝色", "尺码": "L"}).pk
    )
    assert h5.evaluate("document.scrollingElement.scrollWidth") <= 375
    buyer.shot("spec-pictures")


def test_saving_other_fields_leaves_the_description_as_stored(merchant, transactional_db):
    """Quill models a table's header cells as plain cells; a save that only changed 卖点
    must not rewrite the description through it (th → td, and 已修改商品详情 in 历史)."""
    product = make_product("保温杯")
    stored = "<h3>规格参数</h3><table><tbody><tr><th>容量</th><td>500 毫升</td></tr></tbody></table>"
    Product.objects.filter(pk=product.pk).update(description=stored)
    page = merchant.page
    page.goto(f"/backend/catalog/product/{product.pk}/change/")
    page.locator("input[name=subtitle]").fill("12小时保温")
    page.locator("button[name=_save]").click()
    page.wait_for_url("**/backend/catalog/product/")
    product.refresh_from_db()
    assert product.subtitle == "12小时保温"
    assert product.description == stored
