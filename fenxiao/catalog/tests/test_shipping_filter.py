"""商品 filtered by 运费模板 (or 默认运费: none chosen). 运费模板's 使用商品数 opens this list
with the same parameter, so the list shows which template it is narrowed to, and a merchant
can find the products still on the shop's flat fee."""

import pytest
from django.urls import reverse

from fenxiao.shipping.models import ShippingTemplate
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("admin:catalog_product_changelist")


@pytest.fixture
def boss():
    return login(make_staff(superuser=True))


@pytest.fixture
def shelf():
    express, bulky = (
        ShippingTemplate.objects.create(name="普通快递"),
        ShippingTemplate.objects.create(name="大件物流"),
    )
    for name, template in (("T恤", express), ("卫衣", express), ("沙发", bulky), ("贴纸", None)):
        product = make_product(name)
        product.shipping_template = template
        product.save(update_fields=["shipping_template"])
    return express, bulky


def shown(boss, query) -> set[str]:
    reply = boss.get(PRODUCTS, query)
    assert reply.status_code == 200
    return {p.name for p in reply.context["cl"].result_list}


def test_the_list_narrows_to_a_template_or_to_the_flat_fee(boss, shelf):
    express, bulky = shelf
    assert shown(boss, {"shipping_template__id__exact": express.pk}) == {"T恤", "卫衣"}
    assert shown(boss, {"shipping_template__id__exact": bulky.pk}) == {"沙发"}
    assert shown(boss, {"shipping_template__id__exact": "none"}) == {"贴纸"}
    assert len(shown(boss, {"shipping_template__id__exact": "abc"})) == 4


def test_the_template_it_is_narrowed_to_shows_as_the_chosen_filter(boss, shelf):
    express, _bulky = shelf
    reply = boss.get(PRODUCTS, {"shipping_template__id__exact": express.pk})
    spec = next(
        f for f in reply.context["cl"].filter_specs if f.parameter_name == "shipping_template__id__exact"
    )
    assert spec.title == "运费模板"
    chosen = [choice["display"] for choice in spec.choices(reply.context["cl"]) if choice["selected"]]
    assert chosen == ["普通快递"]
    assert "默认运费（订单设置）" in reply.content.decode()
