"""The buyer's H5 shop in English: home, categories, search, a product page, the cart,
checkout, signing in and up, 我的 and its settings, addresses, browsing trail and messages,
the banner admin. With English shop data a page in English shows no Chinese at all; without
the language cookie the same pages stay Chinese."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import translation

from fenxiao.catalog.models import Product
from fenxiao.notices.services import inbox
from fenxiao.orders.models import DiscountKind
from fenxiao.promotions.models import Scope
from fenxiao.promotions.tests.factories import make_coupon, make_flash, make_group
from fenxiao.storefront.models import Banner
from fenxiao.testing import (
    backend_content,
    chinese_left,
    in_english,
    make_address,
    make_buyer,
    make_category,
    make_product,
    make_staff,
)

pytestmark = pytest.mark.django_db

# Labels these pages take from other apps' models (a coupon's scope, a discount's kind): their
# English is those apps' catalogs' business, tested there.
with translation.override("zh-hans"):
    OTHER_APPS = (str(Scope.SHOP.label), str(DiscountKind.GROUP.label), str(DiscountKind.FLASH.label))


@pytest.fixture
def shop():
    shirts = make_category("Shirts")
    shirt = make_product(
        "Linen shirt", category=shirts, price=9900, list_price=12900, specs_list=[{"Colour": "White"}]
    )
    make_product(
        "Oxford shirt", category=shirts, price=5900, specs_list=[{"Colour": "Blue"}, {"Colour": "Pink"}]
    )
    snack = make_product("Nut box", category=make_category("Snacks"), price=4900)
    make_flash(snack, price=2990, quota=40, name="Midnight sale", hours=50).items.update(sold=10)
    later = make_product("Tea tin", category=snack.category, price=3900)
    make_flash(later, price=1990, starts_in=timedelta(hours=3), name="Tea morning")
    shirt.group = make_group(shirt, price=7900, name="Pair up")
    make_coupon(name="Welcome coupon", amount=1000, min_spend=5000)
    Banner.objects.create(title="Winter sale", subtitle="Free shipping over 99")
    return shirt


def english_buyer() -> Client:
    buyer = make_buyer(nickname="Ann")
    make_address(
        buyer,
        recipient="Ann Lee",
        province="Zhejiang",
        city="Hangzhou",
        district="Xihu",
        detail="1 Lake Road",
    )
    client = in_english(Client())
    client.force_login(buyer)
    return client


def page(client, url) -> str:
    reply = client.get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    return reply.content.decode()


def test_browsing_pages_are_english(shop):
    client = in_english(Client())
    for url in [
        "/",
        "/categories/",
        f"/categories/?c={shop.category_id}",
        "/search/?q=shirt",
        "/search/?q=shirt&sort=-price",
        "/search/?q=nothing-like-this",
        f"/products/{shop.pk}/",
    ]:
        body = page(client, url)
        assert chinese_left(body, *OTHER_APPS) == [], url
    home = page(client, "/")
    assert "Recommended for you" in home and "Fenxiao Mall" in home
    assert "Ends in" in home and "sold" in home
    product = page(client, f"/products/{shop.pk}/")
    assert "Add to cart" in product and "Buy now" in product and "Start a group buy" in product


def test_flash_product_page_is_english(shop):
    client = in_english(Client())
    for name in ["Nut box", "Tea tin"]:
        product = Product.objects.get(name=name)
        body = page(client, f"/products/{product.pk}/")
        assert chinese_left(body, *OTHER_APPS) == [], name
    assert "Starts in" in body
    # the running sale ends in two days: its countdown counts days the English way
    assert re.search(r"Ends in <b data-countdown-clock>2d \d\d:\d\d:\d\d</b>", page(client, "/"))


def test_buying_pages_are_english(shop):
    client = english_buyer()
    sku = shop.skus.get()
    reply = client.post("/cart/add/", {"sku": sku.pk, "qty": 2}, follow=True)
    body = reply.content.decode()
    assert "Added to cart" in body and chinese_left(body) == []
    cart = page(client, "/cart/")
    assert "Check out" in cart and chinese_left(cart) == []
    for url in [
        f"/checkout/?sku={sku.pk}&qty=1",
        f"/checkout/?sku={sku.pk}&qty=1&group={shop.group.pk}",
        f"/checkout/?sku={sku.pk}&qty=1&fulfilment=pickup",
    ]:
        body = page(client, url)
        assert chinese_left(body, *OTHER_APPS) == [], url
    assert "Place order" in page(client, f"/checkout/?sku={sku.pk}&qty=1")


def test_empty_cart_is_english():
    body = page(english_buyer(), "/cart/")
    assert "Your cart is empty" in body and chinese_left(body) == []


def test_sign_in_pages_are_english():
    client = in_english(Client())
    for url in ["/login/", "/register/", "/password-reset/"]:
        body = page(client, url)
        assert chinese_left(body) == [], url
    assert "Log in" in page(client, "/login/")


def test_sign_up_refusal_is_english():
    client = in_english(Client())
    reply = client.post(
        "/register/",
        {"phone": "13912345678", "code": "123456", "password": "Abcdef#2026", "password2": "Other#2026"},
        follow=True,
    )
    body = reply.content.decode()
    assert "The two passwords don&#x27;t match" in body
    assert chinese_left(body) == []


def test_account_pages_are_english():
    client = english_buyer()
    for url in ["/me/", "/me/settings/", "/me/addresses/", "/me/trail/"]:
        body = page(client, url)
        assert chinese_left(body, "Ann") == [], url
    assert "My orders" in page(client, "/me/")


def test_address_form_is_english_but_for_region_names():
    body = page(english_buyer(), "/me/addresses/new/")
    # The region picker lists places by their Chinese names: data, not the page's words.
    body = re.sub(r'<option value="[^"]+"[^>]*>[^<]*</option>', "", body)
    assert chinese_left(body) == []
    assert "Street address" in body


def test_trail_is_english(shop):
    client = english_buyer()
    page(client, f"/products/{shop.pk}/")
    body = page(client, "/me/trail/")
    assert "Today" in body and "Viewed at" in body
    assert chinese_left(body) == []


def test_message_list_is_english():
    client = english_buyer()
    user = client.get("/me/").wsgi_request.user
    inbox.notify(
        user, "order_shipped", "Your order is on its way", "Parcel sent", "/orders/", source_key="m1"
    )
    body = page(client, "/me/messages/")
    assert "Mark all as read" in body and chinese_left(body) == []
    body = page(client, "/me/messages/?tab=unread")
    assert chinese_left(body) == []
    reply = client.post("/me/messages/read-all/", follow=True)
    body = reply.content.decode()
    assert "Marked 1 message as read" in body and chinese_left(body) == []
    assert "No unread messages" in page(client, "/me/messages/?tab=unread")


def test_banner_admin_is_english():
    Banner.objects.create(title="Winter sale", subtitle="Free shipping over 99")
    client = in_english(Client())
    client.force_login(make_staff("boss", superuser=True))
    for url in ["/backend/storefront/banner/", "/backend/storefront/banner/add/"]:
        body = page(client, url)
        assert chinese_left(backend_content(body), "Winter sale") == [], url
    reply = client.post(
        "/backend/storefront/banner/add/",
        {"title": "Bad", "link": "javascript:alert(1)", "color": "red", "sort_order": 0},
    )
    body = reply.content.decode()
    assert "A link must be a path on this site" in body and "Enter a color as #RRGGBB" in body


def test_pages_stay_chinese_by_default(shop):
    client = Client()
    home = page(client, "/")
    assert "为你推荐" in home and "首页 - 分销商城" in home and "搜索商品" in home
    product = page(client, f"/products/{shop.pk}/")
    assert "加入购物车" in product and "立即购买" in product
    assert "请输入手机号" in page(client, "/login/")
    buyer = make_buyer()
    client.force_login(buyer)
    assert "我的订单" in page(client, "/me/")
