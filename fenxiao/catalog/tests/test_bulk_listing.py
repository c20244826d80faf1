"""Bulk 上架 / 下架 on the product list says what it changed: products already in that
state are counted apart (left alone), products it could not list are named, and the work
takes the same few statements for 3 products or 300."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from fenxiao.catalog.models import Product
from fenxiao.testing import make_product, make_staff

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_product_changelist")


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def run(client, action: str, products) -> list[str]:
    reply = client.post(CHANGELIST, {"action": action, "_selected_action": [p.pk for p in products]})
    assert reply.status_code == 302
    said = [str(m) for m in get_messages(reply.wsgi_request)]
    client.get(reply.url)  # the list page shows them, so the next run starts with none
    return said


def test_delist_counts_only_the_products_it_took_down(boss):
    on_sale = [make_product(), make_product()]
    in_warehouse = make_product(listed=False)
    chosen = [*on_sale, in_warehouse]

    assert run(boss, "delist_selected", chosen) == ["已下架 2 个商品", "1 个商品原本已在仓库中，未改动"]
    assert not Product.objects.filter(is_listed=True).exists()
    # Again on the same products: nothing changed, and the page says so.
    assert run(boss, "delist_selected", chosen) == ["3 个商品原本已在仓库中，未改动"]


def test_list_counts_changed_already_listed_and_refused_apart(boss):
    ready = make_product(listed=False)
    listed = make_product()
    empty = make_product(name="没有规格的商品", listed=False)
    empty.skus.update(is_active=False)

    said = run(boss, "list_selected", [ready, listed, empty])
    assert said == [
        "已上架 1 个商品",
        "1 个商品原本已上架，未改动",
        "以下商品未能上架：没有规格的商品（没有可售的规格，不能上架）",
    ]
    assert dict(Product.objects.values_list("pk", "is_listed")) == {
        ready.pk: True,
        listed.pk: True,
        empty.pk: False,
    }


def test_bulk_listing_queries_do_not_grow_with_the_selection(boss, django_assert_max_num_queries):
    few = [make_product() for _ in range(3)]
    with django_assert_max_num_queries(30) as counted:
        run(boss, "delist_selected", few)
    many = [make_product() for _ in range(30)]
    with django_assert_max_num_queries(len(counted.captured_queries)):
        assert run(boss, "delist_selected", many) == ["已下架 30 个商品"]
