"""Deleting a category that still holds products or sub-categories: the page says what is in
the way and how to clear it (a link to those products, to move them with 修改分类), instead of
Django's list of every protected product by name with no next step. Nothing is deleted."""

import pytest
from django.urls import reverse

from fenxiao.catalog.admin.categories import products_url
from fenxiao.catalog.models import Category
from fenxiao.testing import login, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff(superuser=True))


def delete_page(boss, category):
    return boss.get(reverse("admin:catalog_category_delete", args=[category.pk]))


def test_a_category_with_products_says_how_many_and_links_to_them(boss):
    men = make_category("男装")
    for name in ("卫衣", "衬衫", "夹克"):
        make_product(name, category=men)

    page = delete_page(boss, men)

    body = page.content.decode()
    assert "分类“男装”暂时不能删除" in body
    assert "“男装”下还有 3 个商品" in body and "修改分类" in body
    assert f'href="{products_url(men.pk)}"' in body.replace("&amp;", "&")
    assert "卫衣" not in body  # no roll of product names
    assert (
        boss.post(reverse("admin:catalog_category_delete", args=[men.pk]), {"post": "yes"}).status_code == 200
    )
    assert Category.objects.filter(pk=men.pk).exists()


def test_a_parent_names_its_sub_categories_and_counts_their_products(boss):
    clothes = make_category("服装")
    men, women = make_category("男装", parent=clothes), make_category("女装", parent=clothes)
    make_product(category=men)
    make_product(category=women)

    body = delete_page(boss, clothes).content.decode()

    assert "“服装”下还有下级分类：男装、女装" in body
    assert "“服装”下（含下级分类）还有 2 个商品" in body


def test_an_empty_category_is_still_deleted_after_confirming(boss):
    empty = make_category("空分类")

    page = delete_page(boss, empty)
    assert "暂时不能删除" not in page.content.decode()
    reply = boss.post(reverse("admin:catalog_category_delete", args=[empty.pk]), {"post": "yes"})

    assert reply.status_code == 302
    assert not Category.objects.filter(pk=empty.pk).exists()
