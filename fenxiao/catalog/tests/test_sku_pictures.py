"""规格图: a SKU may show one of its product's gallery pictures (set per value of the first
spec in the editor). The buyer sees it on the spec choice and in the gallery when picking,
and on the cart, checkout and order lines; the API gives it per SKU. A SKU without one, or
whose picture left the gallery, shows the cover."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from fenxiao.catalog.models import ProductImage, Sku
from fenxiao.catalog.services.copying import copy_product
from fenxiao.catalog.services.images import save_gallery
from fenxiao.catalog.services.spec_matrix import matrix_state, parse_matrix, save_matrix
from fenxiao.orders.services.cart import add_to_cart
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import ApiClient, login, make_address, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def picture(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def shirt():
    """颜色 × 尺码 with a cover and a picture per colour."""
    product = make_product(
        "亚麻衬衫",
        specs_list=[
            {"颜色": "白色", "尺码": "M"},
            {"颜色": "白色", "尺码": "L"},
            {"颜色": "蓝色", "尺码": "M"},
            {"颜色": "蓝色", "尺码": "L"},
        ],
    )
    cover, white, blue = (
        ProductImage.objects.create(product=product, image=picture(f"{n}.png"), sort_order=i)
        for i, n in enumerate(("cover", "white", "blue"))
    )
    return product, cover, white, blue


def post_matrix(product, images: dict[str, int | None]):
    """The editor's save: the matrix as the page opened, each row's picture by its colour."""
    state = matrix_state(product)
    for row in state["rows"]:
        row["image"] = images.get(row["specs"]["颜色"])
    return save_matrix(product, parse_matrix(json.dumps(state, ensure_ascii=False)))


def pictures_by_colour(product) -> dict[str, set]:
    out: dict[str, set] = {}
    for sku in product.skus.all():
        out.setdefault(sku.specs["颜色"], set()).add(sku.image_id)
    return out


def test_the_matrix_saves_each_rows_picture_and_opens_with_it(shirt):
    product, _cover, white, blue = shirt
    post_matrix(product, {"白色": white.pk, "蓝色": blue.pk})
    assert pictures_by_colour(product) == {"白色": {white.pk}, "蓝色": {blue.pk}}
    assert {row["specs"]["颜色"]: row["image"] for row in matrix_state(product)["rows"]} == {
        "白色": white.pk,
        "蓝色": blue.pk,
    }
    post_matrix(product, {"白色": white.pk})  # 不用图片 for 蓝色
    assert pictures_by_colour(product) == {"白色": {white.pk}, "蓝色": {None}}


def test_a_picture_the_product_does_not_hold_is_not_taken(shirt):
    product, _cover, white, _blue = shirt
    other = make_product("别家商品")
    foreign = ProductImage.objects.create(product=other, image=picture("x.png"), sort_order=0)
    post_matrix(product, {"白色": foreign.pk, "蓝色": 987654})
    assert pictures_by_colour(product) == {"白色": {None}, "蓝色": {None}}
    state = json.loads(json.dumps(matrix_state(product)))
    state["rows"][0]["image"] = "12"  # only a whole id counts
    assert parse_matrix(json.dumps(state)).rows[0].image_id is None


def test_removing_the_picture_from_the_gallery_leaves_the_sku_on_the_cover(shirt):
    product, cover, white, blue = shirt
    post_matrix(product, {"白色": white.pk, "蓝色": blue.pk})
    save_gallery(product, [f"id:{cover.pk}", f"id:{blue.pk}"], [])
    assert pictures_by_colour(product) == {"白色": {None}, "蓝色": {blue.pk}}
    white_m = Sku.objects.get(product=product, specs={"颜色": "白色", "尺码": "M"})
    assert white_m.picture == cover and white_m.own_picture is None


def test_a_copied_product_points_its_skus_at_its_own_pictures(shirt):
    product, _cover, white, blue = shirt
    post_matrix(product, {"白色": white.pk, "蓝色": blue.pk})
    copy = copy_product(product)
    by_sort = {image.pk: image.sort_order for image in copy.images.all()}
    assert {sku.specs["颜色"]: by_sort[sku.image_id] for sku in copy.skus.all()} == {"白色": 1, "蓝色": 2}


def test_the_product_page_shows_each_colours_picture_without_more_queries(
    shirt, client, django_assert_max_num_queries
):
    product, _cover, white, blue = shirt
    with django_assert_max_num_queries(9) as plain:  # 9 with 商品评价's figures and latest reviews
        client.get(f"/products/{product.pk}/")
    post_matrix(product, {"白色": white.pk, "蓝色": blue.pk})
    with django_assert_max_num_queries(len(plain.captured_queries)):
        page = client.get(f"/products/{product.pk}/").content.decode()
    for image in (white, blue):
        assert f'data-picture-id="{image.pk}"' in page  # the gallery picture to turn to
        assert f'data-picture="{image.pk}"' in page  # the choice that turns to it
        assert f'class="spec-pic" src="{image.image.url}"' in page
    sizes = page.split("尺码</legend>")[1].split("</fieldset>")[0]
    assert "spec-pic" not in sizes and "data-picture=" not in sizes  # only the first spec


def test_cart_checkout_and_order_lines_show_the_chosen_skus_picture(shirt):
    product, cover, white, _blue = shirt
    post_matrix(product, {"白色": white.pk})
    buyer = make_buyer()
    white_m = Sku.objects.get(product=product, specs={"颜色": "白色", "尺码": "M"})
    blue_m = Sku.objects.get(product=product, specs={"颜色": "蓝色", "尺码": "M"})
    add_to_cart(buyer, white_m.pk, 1)
    add_to_cart(buyer, blue_m.pk, 1)
    client = login(buyer)
    cart = client.get("/cart/").content.decode()
    assert f'<img src="{white.image.url}"' in cart and f'<img src="{cover.image.url}"' in cart
    checkout = client.get(f"/checkout/?sku={white_m.pk}&qty=1").content.decode()
    assert f'<img src="{white.image.url}"' in checkout

    order = place_order(buyer, [(white_m.pk, 1), (blue_m.pk, 1)], address_id=make_address(buyer).pk)
    lines = {line.sku_id: line.image_url for line in order.lines.all()}
    assert lines == {white_m.pk: white.image.url, blue_m.pk: cover.image.url}


def test_the_api_gives_each_skus_picture(shirt):
    product, _cover, white, _blue = shirt
    post_matrix(product, {"白色": white.pk})
    body = ApiClient().get(f"/products/{product.pk}").json()
    urls = {tuple(s["specs"].values()): s["image_url"] for s in body["skus"]}
    assert urls[("白色", "M")].endswith(white.image.url) and urls[("白色", "M")].startswith("http")
    assert urls[("蓝色", "M")] is None  # the client shows cover_url


def test_the_editor_offers_the_saved_pictures(shirt):
    product, cover, white, blue = shirt
    page = login(make_staff("boss", superuser=True)).get(f"/backend/catalog/product/{product.pk}/change/")
    offered = json.loads(
        page.context["adminform"]
        .form["sku_matrix"]
        .field.widget.get_context("x", "", {})["widget"]["pictures"]
    )
    assert offered == [{"id": image.pk, "url": image.image.url} for image in (cover, white, blue)]
    assert "data-pictures=" in page.content.decode()


def test_the_apis_cart_and_checkout_preview_lines_show_the_skus_picture(shirt):
    from fenxiao.testing import api_for

    product, cover, white, _blue = shirt
    post_matrix(product, {"白色": white.pk})
    white_m = Sku.objects.get(product=product, specs={"颜色": "白色", "尺码": "M"})
    blue_m = Sku.objects.get(product=product, specs={"颜色": "蓝色", "尺码": "M"})
    api = api_for(make_buyer())
    api.post("/cart/lines", {"sku_id": white_m.pk, "quantity": 1})
    cart = api.post("/cart/lines", {"sku_id": blue_m.pk, "quantity": 1}).json()
    shown = {line["sku_id"]: line["image_url"] for line in cart["lines"]}
    assert shown == {
        white_m.pk: f"http://testserver{white.image.url}",
        blue_m.pk: f"http://testserver{cover.image.url}",
    }
    lines = [{"sku_id": white_m.pk, "quantity": 1}, {"sku_id": blue_m.pk, "quantity": 2}]
    preview = api.post("/checkout/preview", {"lines": lines}).json()
    assert {line["sku_id"]: line["image_url"] for line in preview["lines"]} == shown
