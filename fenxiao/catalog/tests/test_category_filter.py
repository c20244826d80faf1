"""商品 filtered by 分类: products sit in the leaf categories, so choosing a parent (服装)
shows the products of every category beneath it; the choices read as paths (服装 / 男装).
The 商品分类 list's 商品数 counts the same products and opens that filtered list."""

import re

import pytest
from django.urls import reverse

from fenxiao.testing import login, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("admin:catalog_product_changelist")
CATEGORIES = reverse("admin:catalog_category_changelist")


@pytest.fixture
def boss():
    return login(make_staff(superuser=True))


@pytest.fixture
def shop():
    clothes, digital = make_category("服装"), make_category("数码")
    men, women = make_category("男装", parent=clothes), make_category("女装", parent=clothes)
    products = {
        "卫衣": make_product("卫衣", category=men),
        "衬衫": make_product("衬衫", category=men),
        "连衣裙": make_product("连衣裙", category=women),
        "耳机": make_product("耳机", category=digital),
    }
    return {"服装": clothes, "数码": digital, "男装": men, "女装": women}, products


def shown(boss, query) -> set[str]:
    reply = boss.get(PRODUCTS, query)
    assert reply.status_code == 200
    return {p.name for p in reply.context["cl"].result_list}


def test_a_parent_category_shows_its_children_s_products(boss, shop):
    categories, _ = shop
    assert shown(boss, {"category__id__exact": categories["服装"].pk}) == {"卫衣", "衬衫", "连衣裙"}
    assert shown(boss, {"category__id__exact": categories["男装"].pk}) == {"卫衣", "衬衫"}
    assert shown(boss, {"category__id__exact": categories["数码"].pk}) == {"耳机"}
    # The tabs count the same products.
    reply = boss.get(PRODUCTS, {"category__id__exact": categories["服装"].pk})
    assert reply.context["cl"].product_tabs[0]["count"] == 3


def test_the_choices_read_as_paths_in_tree_order(boss, shop):
    body = boss.get(PRODUCTS).content.decode()
    paths = ["服装 / 男装", "服装 / 女装", "数码"]
    assert all(path in body for path in paths)


def test_a_malformed_or_unknown_category_leaves_the_list_whole(boss, shop):
    for value in ("abc", "999999", "-1"):
        assert len(shown(boss, {"category__id__exact": value})) in (0, 4)
    assert shown(boss, {"category__id__exact": "abc"}) == {"卫衣", "衬衫", "连衣裙", "耳机"}


def test_the_category_list_counts_the_subtree_and_links_to_it(boss, shop):
    categories, _ = shop
    body = boss.get(CATEGORIES).content.decode()
    for name, count in (("服装", 3), ("男装", 2), ("女装", 1), ("数码", 1)):
        link = f'href="{PRODUCTS}?category__id__exact={categories[name].pk}">{count}</a>'
        assert link in body, name
    assert len(re.findall(r"category__id__exact=", body)) == 4
