"""确认订单 and the order page word the same sums the same way: 商品金额 at the catalog prices,
活动价优惠 for what 限时折扣 and 拼团 prices took off, 运费 包邮 when a delivery costs nothing
(struck through with the promotion's name when a 包邮 promotion waived it), 到店自提 免运费
for a pickup. The order page used to say 运费 ¥0.00 and 含限时折扣（…）已省 ¥….)"""

import re

import pytest
from django.test import Client

from fenxiao.orders.models import Order, OrderSettings
from fenxiao.promotions.tests.factories import make_flash, make_spend
from fenxiao.stores.testing import make_store
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db

LABELS = ("商品金额", "活动价优惠", "运费")


def rows(html: str) -> dict[str, str]:
    """The summary's label → value, tags dropped, as the buyer reads them."""
    found = {}
    pattern = r'<div class="kv"[^>]*><span>([^<]+)</span><span[^>]*>(.*?)</span>\s*</div>'
    for label, value in re.findall(pattern, html, re.S):
        found[label] = " ".join(re.sub(r"<[^>]+>", " ", value).split())
    return found


def shop_fee(fee: int) -> None:
    settings = OrderSettings.current()
    settings.shipping_fee, settings.free_shipping_threshold = fee, 0
    settings.save()


def checkout_then_order(buyer, sku, **query) -> tuple[str, str]:
    """确认订单 for one `sku`, then the order page of the order it places (their HTML)."""
    client = Client()
    client.force_login(buyer)
    url = f"/checkout/?sku={sku.pk}&qty=1" + "".join(f"&{k}={v}" for k, v in query.items())
    page = client.get(url)
    assert page.status_code == 200
    total = re.search(r'name="expected_total" value="(\d+)"', page.content.decode())[1]
    assert client.post(url, {"expected_total": total}).status_code == 302
    order = Order.objects.filter(buyer=buyer).latest("id")
    return page.content.decode(), client.get(f"/orders/{order.number}/").content.decode()


@pytest.fixture
def buyer():
    user = make_buyer()
    make_address(user)
    return user


def test_a_flash_price_and_a_waived_fee_read_the_same_before_and_after_ordering(buyer):
    shop_fee(1000)
    coat = make_product("羽绒服", price=30000)
    make_flash(coat, price=20000, name="冬季秒杀")
    make_spend([(15000, 0, True)], name="冬季焕新季")
    confirm_page, detail_page = checkout_then_order(buyer, coat.skus.get())
    confirm, detail = rows(confirm_page), rows(detail_page)
    assert confirm["商品金额"] == "¥300.00" and confirm["活动价优惠"] == "-¥100.00"
    assert confirm["运费"] == "¥10.00 冬季焕新季 包邮"
    assert [detail[label] for label in LABELS] == [confirm[label] for label in LABELS]
    # The promotion's name, which the order page's summary no longer repeats, is on the line.
    for html in (confirm_page, detail_page):
        assert re.search(r'<span class="badge"[^>]*>限时折扣 · 冬季秒杀</span>', html)


def test_a_delivery_that_costs_nothing_says_free_shipping_on_both_pages(buyer):
    shop_fee(0)
    confirm, detail = map(rows, checkout_then_order(buyer, make_product("围巾", price=5900).skus.get()))
    assert confirm["运费"] == detail["运费"] == "包邮"
    assert confirm["商品金额"] == detail["商品金额"] == "¥59.00" and "活动价优惠" not in detail


def test_a_fee_reads_as_the_amount_on_both_pages(buyer):
    shop_fee(1000)
    confirm, detail = map(rows, checkout_then_order(buyer, make_product("围巾", price=5900).skus.get()))
    assert confirm["运费"] == detail["运费"] == "¥10.00"


def test_a_pickup_order_costs_no_shipping_on_both_pages(buyer):
    shop_fee(1000)
    sku = make_product("龙井茶", price=8800, stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 3})
    confirm, detail = map(rows, checkout_then_order(buyer, sku, fulfilment="pickup", store=store.pk))
    assert confirm["运费"] == detail["运费"] == "到店自提 免运费"
