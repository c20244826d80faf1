"""修改分类 on the product list: the ticked products go into one category at once (how a
merchant empties a category before deleting it, or regroups products after reshaping the
tree); the page says where they are now, and nothing else about them changes."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fenxiao.catalog.models import Product
from fenxiao.testing import login, make_category, make_product, make_staff

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_product_changelist")


@pytest.fixture
def boss():
    return login(make_staff(superuser=True))


@pytest.fixture
def tree():
    clothes = make_category("服装")
    return {
        "男装": make_category("男装", parent=clothes),
        "女装": make_category("女装", parent=clothes),
        "零食": make_category("零食"),
    }


def post(boss, products, **data):
    return boss.post(
        CHANGELIST, {"action": "move_category", "_selected_action": [p.pk for p in products], **data}
    )


def test_the_page_shows_where_the_chosen_products_are(boss, tree):
    two_colours = [{"颜色": "红"}, {"颜色": "蓝"}]
    shirts = [make_product(category=tree["男装"], specs_list=two_colours) for _ in range(2)]
    dress = make_product(category=tree["女装"])

    page = post(boss, [*shirts, dress])

    assert page.status_code == 200
    body = page.content.decode()
    assert "修改分类（已选 3 个商品）" in body
    # Counted per product, not per SKU row of the list's query.
    assert "服装 / 男装：2 个" in body and "服装 / 女装：1 个" in body
    assert "服装 / 男装" in dict(page.context["form"].fields["category"].choices).values()


def test_moving_puts_every_chosen_product_in_the_category_and_says_so(boss, tree):
    shirt = make_product(category=tree["男装"], listed=True, price=5900)
    dress = make_product(category=tree["女装"], listed=False)
    already = make_product(category=tree["零食"])
    untouched = make_product(category=tree["男装"])

    reply = post(boss, [shirt, dress, already], _apply="1", category=str(tree["零食"].pk))

    assert reply.status_code == 302
    said = [str(m) for m in get_messages(reply.wsgi_request)]
    assert said == ["已将 2 个商品移到“零食”", "1 个商品原本就在这个分类，未改动"]
    placed = dict(Product.objects.values_list("pk", "category_id"))
    assert placed[shirt.pk] == placed[dress.pk] == placed[already.pk] == tree["零食"].pk
    assert placed[untouched.pk] == tree["男装"].pk
    shirt.refresh_from_db()
    assert (shirt.is_listed, shirt.price) == (True, 5900)


def test_moving_products_already_there_says_only_that(boss, tree):
    snacks = [make_product(category=tree["零食"]) for _ in range(2)]

    reply = post(boss, snacks, _apply="1", category=str(tree["零食"].pk))

    said = [str(m) for m in get_messages(reply.wsgi_request)]
    assert said == ["2 个商品原本就在这个分类，未改动"]  # no 已将 0 个商品移到…


def test_no_category_chosen_is_refused_on_the_page(boss, tree):
    shirt = make_product(category=tree["男装"])

    page = post(boss, [shirt], _apply="1", category="")

    assert page.status_code == 200
    assert "请选择要移到的分类" in page.content.decode()
    shirt.refresh_from_db()
    assert shirt.category_id == tree["男装"].pk


def test_staff_who_may_only_view_products_do_not_get_the_action(tree):
    viewer = login(make_staff(perms=["catalog.view_product"]))
    shirt = make_product(category=tree["男装"])

    post(viewer, [shirt], _apply="1", category=str(tree["零食"].pk))

    shirt.refresh_from_db()
    assert shirt.category_id == tree["男装"].pk
