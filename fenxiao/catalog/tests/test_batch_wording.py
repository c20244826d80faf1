"""批量改价 / 改库存 says what it does: the page states the rule the service applies (a new
price may not be above the list price), and the result names the change with its number
in place (售价降低 10%), not the option's placeholder followed by what was typed."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from fenxiao.catalog.models import Sku
from fenxiao.testing import make_product, make_staff

pytestmark = pytest.mark.django_db

LIST = reverse("admin:catalog_product_changelist")


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


def apply(client, products, operation: str, amount: str):
    return client.post(
        LIST,
        {
            "action": "batch_price_stock",
            "_selected_action": [p.pk for p in products],
            "_apply": "1",
            "operation": operation,
            "amount": amount,
        },
    )


def said(reply) -> list[str]:
    assert reply.status_code == 302, reply.content.decode()[:2000]
    return [str(m) for m in get_messages(reply.wsgi_request)]


def test_the_page_states_the_list_price_rule_it_applies(boss):
    product = make_product(price=900, list_price=1000)
    page = boss.post(LIST, {"action": "batch_price_stock", "_selected_action": [product.pk]}).content.decode()
    assert "高于划线价" in page and "低于划线价" not in page

    refused = apply(boss, [product], "price_up_pct", "20").content.decode()
    assert "不高于划线价" in refused and "未做任何修改" in refused
    assert Sku.objects.get(product=product).price == 900


@pytest.mark.parametrize(
    "operation, amount, change",
    [
        ("price_down_pct", "10", "售价降低 10%"),
        ("price_up_pct", "12.5", "售价提高 12.5%"),
        ("price_set", "9.9", "售价改为 ¥9.90"),
        ("price_down", "1", "售价降低 ¥1.00"),
        ("stock_set", "8", "库存改为 8 件"),
        ("stock_add", "-2", "库存减少 2 件"),
        ("stock_add", "5", "库存增加 5 件"),
    ],
)
def test_the_result_names_the_change_with_its_number(boss, operation, amount, change):
    products = [make_product(price=2000, stock=10), make_product(price=3000, stock=10)]
    assert said(apply(boss, products, operation, amount)) == [f"已修改 2 个商品的 2 个规格（{change}）"]
