"""The engine picks what the buyer pays least for, postage included.

A coupon or a 满减 that takes the goods below a free-shipping amount, or that replaces a
包邮 promotion, can cost the buyer more than it saves: the automatic choice (the best
coupon, which 满减) weighs the finished total — goods after discounts plus postage — not
the discount alone. A coupon the buyer picks (or "no coupon") is still what they get.
"""

import re

import pytest
from django.test import Client

from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services.checkout import place_order, quote
from fenxiao.orders.services.promotions_port import Choice
from fenxiao.promotions.models import BuyerCoupon, BuyerCouponStatus
from fenxiao.shipping.models import ShippingTemplate
from fenxiao.testing import api_for, make_address, make_buyer, make_product

from .factories import give_coupon, make_coupon, make_spend

pytestmark = pytest.mark.django_db


def _sku(product):
    return product.skus.get()


def _template_free_over_99(product):
    """¥8.00 a parcel, free when the goods of the template pay ¥99.00 or more."""
    product.shipping_template = ShippingTemplate.objects.create(
        name="普通快递", first_fee=800, free_over_amount=9900
    )
    product.save(update_fields=["shipping_template"])


def _shop_fee(fee=800, free_over=0):
    OrderSettings.objects.update_or_create(
        pk=1, defaults={"shipping_fee": fee, "free_shipping_threshold": free_over}
    )


def _figures(q):
    return (q.coupon_id, q.discount_amount, q.shipping_fee, q.total)


# --- (a) a coupon that loses the free shipping of the template ---------------------------------


@pytest.fixture
def free_over_99():
    """A ¥100.00 product whose template ships free from ¥99.00, and a buyer holding a ¥5 coupon."""
    product = make_product(price=10000)
    _template_free_over_99(product)
    buyer = make_buyer()
    coupon = give_coupon(buyer, make_coupon(amount=500, name="5元券"))
    return buyer, _sku(product), coupon


def test_auto_keeps_the_coupon_when_it_would_lose_the_templates_free_shipping(free_over_99):
    buyer, sku, coupon = free_over_99
    address = make_address(buyer)
    q = quote([(sku.pk, 1)], buyer=buyer, address=address)
    # ¥100.00 shipped free, not ¥95.00 + ¥8.00 postage.
    assert _figures(q) == (None, 0, 0, 10000)
    # The coupon is still offered, with what it would take off.
    assert [(o.id, o.discount, o.usable) for o in q.coupon_options] == [(coupon.pk, 500, True)]
    order = place_order(buyer, [(sku.pk, 1)], address_id=address.pk, expected_total=10000)
    assert (order.discount_amount, order.shipping_fee, order.total) == (0, 0, 10000)
    assert BuyerCoupon.objects.get(pk=coupon.pk).status == BuyerCouponStatus.UNUSED


def test_an_explicitly_chosen_coupon_is_honoured_even_when_it_costs_more(free_over_99):
    buyer, sku, coupon = free_over_99
    address = make_address(buyer)
    q = quote([(sku.pk, 1)], buyer=buyer, address=address, choice=Choice(coupon=coupon.pk))
    assert _figures(q) == (coupon.pk, 500, 800, 10300)
    order = place_order(
        buyer, [(sku.pk, 1)], address_id=address.pk, choice=Choice(coupon=coupon.pk), expected_total=10300
    )
    assert (order.discount_amount, order.shipping_fee, order.total) == (500, 800, 10300)
    assert BuyerCoupon.objects.get(pk=coupon.pk).status == BuyerCouponStatus.USED


def test_auto_still_takes_the_coupon_when_the_basket_stays_above_the_free_amount(free_over_99):
    buyer, sku, coupon = free_over_99
    q = quote([(sku.pk, 2)], buyer=buyer, address=make_address(buyer))
    assert _figures(q) == (coupon.pk, 500, 0, 19500)


def test_the_shop_default_free_amount_counts_too():
    _shop_fee(800, free_over=9900)
    buyer = make_buyer()
    give_coupon(buyer, make_coupon(amount=500))
    sku = _sku(make_product(price=10000))
    assert _figures(quote([(sku.pk, 1)], buyer=buyer)) == (None, 0, 0, 10000)


def test_pickup_has_no_postage_to_lose_and_takes_the_coupon(free_over_99):
    """Nothing is sent: the best discount is the best total, as before."""
    buyer, sku, coupon = free_over_99
    q = quote([(sku.pk, 1)], buyer=buyer, fulfilment="pickup")
    assert _figures(q) == (coupon.pk, 500, 0, 9500)


# --- (b) a coupon that would replace a non-stackable 包邮 -------------------------------------


def test_auto_keeps_a_non_stackable_free_shipping_promotion_over_a_smaller_coupon():
    _shop_fee(800)
    buyer = make_buyer()
    one = give_coupon(buyer, make_coupon(amount=100, name="1元券"))
    make_spend([(9900, 0, True)], name="满99包邮", stackable=False)
    sku = _sku(make_product(price=9900))
    q = quote([(sku.pk, 1)], buyer=buyer)
    # ¥99.00 shipped free, not ¥98.00 + ¥8.00.
    assert _figures(q) == (None, 0, 0, 9900)
    assert q.free_shipping is not None and q.free_shipping.amount == 800
    assert [d.kind for d in q.discounts] == ["free_shipping"]
    # Picked by hand, the coupon replaces the 包邮, as before.
    q = quote([(sku.pk, 1)], buyer=buyer, choice=Choice(coupon=one.pk))
    assert _figures(q) == (one.pk, 100, 800, 10600)
    assert q.free_shipping is None


def test_a_coupon_worth_more_than_the_postage_still_wins_over_a_non_stackable_free_shipping():
    _shop_fee(800)
    buyer = make_buyer()
    ten = give_coupon(buyer, make_coupon(amount=1000))
    make_spend([(9900, 0, True)], name="满99包邮", stackable=False)
    sku = _sku(make_product(price=9900))
    # ¥89.00 + ¥8.00 = ¥97.00 beats ¥99.00 shipped free.
    assert _figures(quote([(sku.pk, 1)], buyer=buyer)) == (ten.pk, 1000, 800, 9700)


# --- (c) two 满减: a reduction smaller than the postage another one waives -------------------------


def test_of_two_spend_promotions_the_one_with_the_lower_total_wins():
    _shop_fee(800)
    make_spend([(9900, 100)], name="满99减1")
    make_spend([(9900, 0, True)], name="满99包邮")
    sku = _sku(make_product(price=9900))
    q = quote([(sku.pk, 1)])
    assert (q.discount_amount, q.shipping_fee, q.total) == (0, 0, 9900)
    assert [(d.kind, d.name, d.amount) for d in q.discounts] == [("free_shipping", "满99包邮", 800)]
    # The same when the buyer says "no coupon" (the cart page prices that way).
    buyer = make_buyer()
    assert _figures(quote([(sku.pk, 1)], buyer=buyer, choice=Choice(coupon=None))) == (None, 0, 0, 9900)


def test_a_spend_reduction_worth_more_than_the_postage_still_wins():
    _shop_fee(800)
    make_spend([(9900, 1000)], name="满99减10")
    make_spend([(9900, 0, True)], name="满99包邮")
    sku = _sku(make_product(price=9900))
    q = quote([(sku.pk, 1)])
    assert (q.discount_amount, q.shipping_fee, q.total) == (1000, 800, 9700)


def test_no_spend_at_all_when_its_reduction_would_lose_the_templates_free_shipping():
    product = make_product(price=10000)
    _template_free_over_99(product)
    make_spend([(10000, 200)], name="满100减2")
    q = quote([(_sku(product).pk, 1)])
    # ¥98.00 + ¥8.00 postage would be ¥106.00.
    assert (q.discount_amount, q.shipping_fee, q.total) == (0, 0, 10000)


# --- the API and the H5 page agree ----------------------------------------------------------------


def test_the_api_preview_and_the_h5_checkout_show_the_same_choice_and_total(free_over_99):
    buyer, sku, coupon = free_over_99
    address = make_address(buyer)
    preview = api_for(buyer).post(
        "/checkout/preview", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": address.pk}
    )
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert (body["coupon_id"], body["shipping_fee"], body["total"]) == (None, 0, 10000)

    client = Client()
    client.force_login(buyer)
    page = client.get(f"/checkout/?sku={sku.pk}&qty=1")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="checkout-total">¥100.00<' in html
    # The form posts "no coupon", which is what the page priced.
    action = re.search(r'<form[^>]*action="(/checkout/\?[^"]*)"', html)[1].replace("&amp;", "&")
    assert "coupon=none" in action
    reply = client.post(action, {"expected_total": 10000, "address": address.pk})
    order = Order.objects.get(buyer=buyer)
    assert reply.status_code == 302, reply
    assert (order.discount_amount, order.shipping_fee, order.total) == (0, 0, 10000)


# --- weighing more choices costs no query ---------------------------------------------------------


def test_weighing_every_coupon_and_spend_with_postage_reads_nothing_more():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(buyer, sku):
        address = make_address(buyer)
        with CaptureQueriesContext(connection) as ctx:
            quote([(sku.pk, 1)], buyer=buyer, address=address)
        return len(ctx.captured_queries)

    OrderSettings.current()
    product = make_product(price=10000)
    _template_free_over_99(product)
    sku = _sku(product)
    few = make_buyer()
    give_coupon(few, make_coupon(amount=500))
    make_spend([(9900, 0, True)], name="满99包邮", stackable=False)
    one_each = queries(few, sku)

    many = make_buyer()
    for amount in (100, 200, 300, 500, 800, 1000):
        give_coupon(many, make_coupon(amount=amount))
    make_spend([(9900, 100)], name="满99减1")
    make_spend([(5000, 300)], name="满50减3")
    assert queries(many, sku) == one_each
