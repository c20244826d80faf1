"""Browsing the catalog as an anonymous visitor: filters, search, sorting, pages, details."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.catalog.models import Category, Product, ProductImage, Sku
from fenxiao.catalog.services.products import save_product, set_listed
from fenxiao.testing import ApiClient, make_category, make_product

pytestmark = pytest.mark.django_db


def ids(reply):
    assert reply.status_code == 200, reply.content
    return [item["id"] for item in reply.json()["items"]]


@pytest.fixture
def client():
    return ApiClient()


def test_category_filter_includes_subcategories(client):
    clothes = make_category("服装")
    men = make_category("男装", parent=clothes)
    tees = make_category("T恤", parent=men)
    food = make_category("食品")
    coat = make_product("大衣", category=clothes)
    shirt = make_product("衬衫", category=men)
    tee = make_product("圆领T恤", category=tees)
    make_product("饼干", category=food)

    assert set(ids(client.get("/products", category=clothes.pk))) == {coat.pk, shirt.pk, tee.pk}
    assert set(ids(client.get("/products", category=men.pk))) == {shirt.pk, tee.pk}
    assert ids(client.get("/products", category=tees.pk)) == [tee.pk]
    assert ids(client.get("/products", category=999999)) == []

    tree = client.get("/categories").json()
    by_name = {node["name"]: node for node in tree}
    assert set(by_name) == {"服装", "食品"}
    assert by_name["服装"]["children"][0]["name"] == "男装"
    assert by_name["服装"]["children"][0]["children"][0]["name"] == "T恤"


def test_hiding_a_category_hides_the_categories_beneath_it(client):
    clothes = make_category("服装")
    men = make_category("男装", parent=clothes)
    make_category("T恤", parent=men)
    make_category("食品")
    Category.objects.filter(pk=clothes.pk).update(is_active=False)

    tree = client.get("/categories").json()

    assert [node["name"] for node in tree] == ["食品"]  # not 男装 as a top-level category
    Category.objects.filter(pk=clothes.pk).update(is_active=True)
    Category.objects.filter(pk=men.pk).update(is_active=False)
    tree = client.get("/categories").json()
    assert {node["name"]: node["children"] for node in tree} == {"服装": [], "食品": []}


def test_search_by_name_and_subtitle(client):
    tee = make_product("纯棉T恤")
    polo = make_product("POLO衫")
    Product.objects.filter(pk=polo.pk).update(subtitle="透气 t恤 面料")
    jeans = make_product("牛仔裤")
    assert set(ids(client.get("/products", q="T恤"))) == {tee.pk, polo.pk}
    assert ids(client.get("/products", q="  牛仔 ")) == [jeans.pk]
    assert ids(client.get("/products", q="不存在的商品")) == []
    assert len(ids(client.get("/products", q="   "))) == 3  # a blank search filters nothing


def test_words_typed_apart_find_the_product_holding_every_one(client):
    """As the H5 search: 西湖 龙井 is two words, not one phrase with a space in it."""
    tea = make_product("西湖龙井 250g")
    other = make_product("安溪铁观音")
    Product.objects.filter(pk=other.pk).update(subtitle="西湖边的茶馆同款")
    assert ids(client.get("/products", q="西湖 龙井")) == [tea.pk]
    assert ids(client.get("/products", q="250g 龙井")) == [tea.pk]
    assert set(ids(client.get("/products", q="西湖"))) == {tea.pk, other.pk}
    assert ids(client.get("/products", q="西湖 普洱")) == []


def test_sorting(client):
    cheap = make_product("便宜", price=1000)
    dear = make_product("贵", price=9000)
    middle = make_product("中等", price=5000)
    Product.objects.filter(pk=cheap.pk).update(sales_count=5)
    Product.objects.filter(pk=dear.pk).update(sales_count=50)
    Product.objects.filter(pk=middle.pk).update(sales_count=1)
    now = timezone.now()
    for age, product in enumerate([middle, cheap, dear]):
        Product.objects.filter(pk=product.pk).update(created_at=now - timedelta(days=age))

    assert ids(client.get("/products", sort="price")) == [cheap.pk, middle.pk, dear.pk]
    assert ids(client.get("/products", sort="-price")) == [dear.pk, middle.pk, cheap.pk]
    assert ids(client.get("/products", sort="sales")) == [dear.pk, cheap.pk, middle.pk]
    assert ids(client.get("/products", sort="newest")) == [middle.pk, cheap.pk, dear.pk]
    assert ids(client.get("/products")) == [middle.pk, cheap.pk, dear.pk]  # newest by default
    # An unknown sort falls back to newest rather than failing.
    assert ids(client.get("/products", sort="drop table")) == [middle.pk, cheap.pk, dear.pk]


def test_list_price_is_the_cheapest_active_sku(client):
    product = make_product("多规格", specs_list=[{"尺码": "S"}, {"尺码": "M"}], price=3000)
    Sku.objects.filter(product=product, specs={"尺码": "M"}).update(price=2500)
    from fenxiao.catalog.services.products import refresh_summary

    refresh_summary([product.pk])
    item = client.get("/products").json()["items"][0]
    assert (item["price"], item["price_display"]) == (2500, "¥25.00")


def test_pagination(client):
    made = [make_product(f"商品{i:02d}", price=100 + i) for i in range(25)]
    first = client.get("/products", sort="price").json()
    assert first["count"] == 25
    assert [item["id"] for item in first["items"]] == [p.pk for p in made[:20]]
    second = client.get("/products", sort="price", page=2).json()
    assert [item["id"] for item in second["items"]] == [p.pk for p in made[20:]]
    assert client.get("/products", sort="price", page=3).json()["items"] == []
    small = client.get("/products", sort="price", page=3, page_size=10).json()
    assert small["count"] == 25
    assert [item["id"] for item in small["items"]] == [p.pk for p in made[20:25]]
    bad = client.get("/products", page=0)
    assert bad.status_code == 422
    assert bad.json()["code"] == "INVALID_INPUT"
    assert client.get("/products", page="x").status_code == 422


def test_delisted_products_are_hidden_from_list_and_detail(client):
    shown = make_product("在售")
    hidden = make_product("下架", listed=False)
    later = make_product("刚下架")
    set_listed(later, False)
    assert ids(client.get("/products")) == [shown.pk]
    assert client.get(f"/products/{shown.pk}").status_code == 200
    for product in (hidden, later):
        reply = client.get(f"/products/{product.pk}")
        assert reply.status_code == 404
        assert reply.json()["code"] == "PRODUCT_NOT_FOUND"
        assert "下架" in reply.json()["message"]
    missing = client.get("/products/987654")
    assert (missing.status_code, missing.json()["code"]) == (404, "PRODUCT_NOT_FOUND")


def test_detail_shows_active_skus_specs_and_images(client):
    product = make_product(
        "T恤",
        price=4990,
        stock=3,
        list_price=5990,
        specs_list=[{"颜色": "白", "尺码": "M"}, {"颜色": "黑", "尺码": "M"}, {"颜色": "红", "尺码": "L"}],
    )
    white, black, red = product.skus.order_by("id")
    Sku.objects.filter(pk=red.pk).update(is_active=False)
    Sku.objects.filter(pk=black.pk).update(stock=0)
    ProductImage.objects.create(product=product, image="products/b.jpg", sort_order=2)
    ProductImage.objects.create(product=product, image="products/a.jpg", sort_order=1)
    body = client.get(f"/products/{product.pk}").json()
    assert [s["id"] for s in body["skus"]] == [white.pk, black.pk]
    assert [s["available"] for s in body["skus"]] == [True, False]
    assert body["skus"][0]["price_display"] == "¥49.90"
    assert body["spec_options"] == [
        {"name": "颜色", "values": ["白", "黑"]},
        {"name": "尺码", "values": ["M"]},
    ]
    assert [url.rsplit("/", 1)[-1] for url in body["image_urls"]] == ["a.jpg", "b.jpg"]
    assert body["cover_url"].endswith("/products/a.jpg")
    assert body["cover_url"].startswith("http://testserver/")


def test_specs_keep_the_merchants_order(client):
    product = make_product("T恤", specs_list=[{"颜色": "白", "尺码": "M"}])
    body = client.get(f"/products/{product.pk}").json()
    assert [o["name"] for o in body["spec_options"]] == ["颜色", "尺码"]
    assert body["skus"][0]["specs"] == {"颜色": "白", "尺码": "M"}
    assert list(body["skus"][0]["specs"]) == ["颜色", "尺码"]


def test_description_is_sanitised_when_saved(client):
    product = make_product("安全")
    product.description = (
        '<p>纯棉<strong>舒适</strong></p><script>alert("x")</script>'
        '<img src="https://cdn.example.com/a.jpg" onerror="alert(1)">'
        '<a href="javascript:alert(1)">点我</a><iframe src="https://evil"></iframe>'
    )
    save_product(product)
    description = client.get(f"/products/{product.pk}").json()["description"]
    assert "<p>纯棉<strong>舒适</strong></p>" in description
    assert '<img src="https://cdn.example.com/a.jpg">' in description
    lowered = description.lower()
    for bad in ("<script", "alert(", "onerror", "javascript:", "<iframe"):
        assert bad not in lowered
    assert Product.objects.get(pk=product.pk).description == description


def test_browsing_needs_no_login_and_does_not_take_writes(client):
    product = make_product()
    assert client.get("/products").status_code == 200
    assert client.get(f"/products/{product.pk}").status_code == 200
    assert client.post("/products", {}).status_code == 405
