"""The backend page title names the app only where it differs from the model: 商品 ›
商品 › <name> read twice over, and on a page with many buttons the repeat left 订… › 订…."""

import re

import pytest
from django.urls import reverse

from fenxiao.testing import login, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend():
    return login(make_staff(superuser=True))


def title(client, url) -> list[str]:
    html = client.get(url).content.decode()
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    return [t.strip() for t in re.findall(r"<(?:a|span) [^>]*truncate[^>]*>([^<]*)<", h1)]


def test_the_app_is_left_out_where_the_model_bears_its_name(backend):
    product = make_product("龙井茶", price=12800)
    assert title(backend, reverse("admin:catalog_product_changelist")) == ["商品"]
    assert title(backend, reverse("admin:catalog_product_change", args=[product.pk])) == ["商品", "龙井茶"]


def test_the_app_stays_where_it_says_more(backend):
    category = make_category("茶饮")
    assert title(backend, reverse("admin:catalog_category_change", args=[category.pk])) == [
        "商品",
        "商品分类",
        "茶饮",
    ]
