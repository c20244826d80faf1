"""Checkout prices shipping by the products' templates and the address's province: on the
H5 checkout page, in the buyer API's preview, and on the order placed."""

import pytest
from django.db import IntegrityError, transaction

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import Order
from fenxiao.orders.services import checkout
from fenxiao.shipping.errors import RegionUndeliverable
from fenxiao.shipping.models import ShippingFreeRule, ShippingTemplate
from fenxiao.testing import api_for, assert_refused, login, make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db


def test_fee_follows_the_template_and_the_province(shop):
    buyer = make_buyer()
    home = make_address(buyer)  # 浙江省
    far = make_address(
        buyer, province="新疆维吾尔自治区", city="乌鲁木齐市", district="天山区", is_default=False
    )
    scarf = shop["scarf"].pk
    assert checkout.quote([(scarf, 1)], address=home).shipping_fee == 800
    assert checkout.quote([(scarf, 3)], address=home).shipping_fee == 800 + 500
    assert checkout.quote([(scarf, 4)], address=home).shipping_fee == 800 + 2 * 500
    assert checkout.quote([(scarf, 3)], address=far).shipping_fee == 2000 + 2 * 1000  # its own steps of 1
    # 满 ¥200 包邮 for the template, but 新疆 is free only over ¥500.
    assert checkout.quote([(scarf, 7)], address=home).shipping_fee == 0
    assert checkout.quote([(scarf, 7)], address=far).shipping_fee > 0


def test_weight_template_rounds_up_and_mixed_baskets_charge_one_first_fee(shop):
    address = make_address(make_buyer())
    sofa, scarf = shop["sofa"].pk, shop["scarf"].pk
    assert checkout.quote([(sofa, 1)], address=address).shipping_fee == 1500 + 600  # 2.5 kg → 3 kg
    # 大件 leads (¥15 first fee), 普通快递 adds its steps only: 1 piece = one step of ¥5.
    assert checkout.quote([(sofa, 1), (scarf, 1)], address=address).shipping_fee == 2100 + 500
    # Products without a template: the shop's flat fee, which adds nothing when following.
    assert checkout.quote([(shop["plain"].pk, 1)], address=address).shipping_fee == 1000
    assert checkout.quote([(sofa, 1), (shop["plain"].pk, 1)], address=address).shipping_fee == 2100


def test_an_undeliverable_province_is_shown_and_refused_at_placing(shop):
    buyer = make_buyer()
    hk = make_address(buyer, province="香港特别行政区", city="香港岛", district="中西区")
    q = checkout.quote([(shop["scarf"].pk, 1)], address=hk)
    assert q.shipping_error.code == "SHIPPING_REGION_UNDELIVERABLE"
    with pytest.raises(RegionUndeliverable, match="羊毛围巾不支持配送至香港特别行政区"):
        checkout.place_order(buyer, [(shop["scarf"].pk, 1)], address_id=hk.pk)
    assert not Order.objects.exists()
    assert Sku.objects.get(pk=shop["scarf"].pk).stock == 100
    # The sofa's template delivers there.
    order = checkout.place_order(buyer, [(shop["sofa"].pk, 1)], address_id=hk.pk)
    assert order.shipping_fee == 2100 and order.total == 5000 + 2100


def test_the_order_keeps_the_fee_of_its_address(shop):
    buyer = make_buyer()
    far = make_address(buyer, province="新疆维吾尔自治区", city="乌鲁木齐市", district="天山区")
    order = checkout.place_order(
        buyer, [(shop["scarf"].pk, 1)], address_id=far.pk, expected_total=3000 + 2000
    )
    assert (order.shipping_fee, order.total) == (2000, 5000)


def test_buyer_api_preview_prices_shipping_for_an_address(shop):
    buyer = make_buyer()
    api = api_for(buyer)
    far = make_address(buyer, province="新疆维吾尔自治区", city="乌鲁木齐市", district="天山区")
    hk = make_address(buyer, province="香港特别行政区", city="九龙", district="观塘区", is_default=False)
    lines = [{"sku_id": shop["scarf"].pk, "quantity": 1}]
    body = api.post("/checkout/preview", {"lines": lines, "coupon_id": None}).json()
    assert (body["shipping_fee"], body["shipping_error"]) == (800, None)
    body = api.post("/checkout/preview", {"lines": lines, "coupon_id": None, "address_id": far.pk}).json()
    assert (body["shipping_fee"], body["total"]) == (2000, 5000)
    body = api.post("/checkout/preview", {"lines": lines, "coupon_id": None, "address_id": hk.pk}).json()
    assert body["shipping_error"]["code"] == "SHIPPING_REGION_UNDELIVERABLE"
    assert "香港" in body["shipping_error"]["message"]
    assert_refused(
        api.post("/checkout", {"lines": lines, "address_id": hk.pk}), 400, "SHIPPING_REGION_UNDELIVERABLE"
    )
    other = make_address(make_buyer())
    assert_refused(
        api.post("/checkout/preview", {"lines": lines, "address_id": other.pk}), 404, "ADDRESS_NOT_FOUND"
    )


def test_h5_checkout_shows_the_computed_fee_and_the_undeliverable_message(shop):
    buyer = make_buyer()
    home = make_address(buyer)
    hk = make_address(buyer, province="香港特别行政区", city="香港岛", district="湾仔区", is_default=False)
    browser = login(buyer)
    page = browser.get(f"/checkout/?sku={shop['sofa'].pk}&qty=2&address={home.pk}")
    text = page.content.decode()
    # 5 kg: first 2 kg ¥15 + 3 × ¥6.
    assert page.status_code == 200 and 'data-testid="checkout-shipping">¥33.00<' in text
    assert 'data-testid="checkout-total">¥133.00<' in text
    page = browser.get(f"/checkout/?sku={shop['scarf'].pk}&qty=1&address={hk.pk}")
    text = page.content.decode()
    assert "羊毛围巾不支持配送至香港特别行政区" in text and "不在配送范围" in text
    placed = browser.post(f"/checkout/?sku={shop['scarf'].pk}&qty=1", {"address": hk.pk})
    assert placed.status_code == 302 and not Order.objects.exists()
    assert "不支持配送" in browser.get(placed.url).content.decode()


def test_checkout_reads_templates_in_a_fixed_number_of_queries(shop, django_assert_max_num_queries):
    address = make_address(make_buyer())
    few_products = [(shop["scarf"].pk, 1)]
    with django_assert_max_num_queries(20) as few:
        checkout.quote(few_products, address=address)
    more = [make_product(price=100) for _ in range(4)]
    extra = ShippingTemplate.objects.create(name="另一模板", first_fee=100)
    for product in more:
        product.shipping_template = extra
        product.save()
    many = [*few_products, (shop["sofa"].pk, 1), *[(p.skus.get().pk, 1) for p in more]]
    with django_assert_max_num_queries(len(few.captured_queries)):
        checkout.quote(many, address=address)


def test_the_database_refuses_nonsense_templates():
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingTemplate.objects.create(name="零件", first_units=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingTemplate.objects.create(name="乱码", charge_by="volume")
    template = ShippingTemplate.objects.create(name="好的")
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingFreeRule.objects.create(template=template, provinces=["11"])


def test_a_free_shipping_promotion_waives_the_template_fee_too(shop):
    from fenxiao.promotions.tests.factories import make_spend

    buyer = make_buyer()
    far = make_address(buyer, province="新疆维吾尔自治区", city="乌鲁木齐市", district="天山区")
    make_spend([(5000, 0, True)], name="满50包邮")
    q = checkout.quote([(shop["scarf"].pk, 2)], address=far)
    assert (q.shipping_fee, q.total, q.free_shipping.amount) == (0, 6000, 2000 + 1000)
    order = checkout.place_order(buyer, [(shop["scarf"].pk, 2)], address_id=far.pk, expected_total=6000)
    assert order.discounts.get(line=None).amount == 3000
