"""购物车 with a 满额包邮 reached says 运费 「活动」包邮, as 确认订单 does, instead of listing
the waived fee as one more deduction (满额包邮 · 冬季焕新季 -¥10.00) beside 已减 ¥30.00 and a
合计 it was never taken from: the cart's total holds no shipping."""

import pytest
from django.test import Client

from fenxiao.orders.models import OrderSettings
from fenxiao.orders.services.cart import add_to_cart
from fenxiao.promotions.tests.factories import make_spend
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db


def test_the_cart_names_free_shipping_without_deducting_it():
    settings = OrderSettings.current()
    settings.shipping_fee, settings.free_shipping_threshold = 1000, 0
    settings.save()
    make_spend([(20000, 3000, True)], name="冬季焕新季")
    buyer = make_buyer()
    make_address(buyer)
    add_to_cart(buyer, make_product("羽绒服", price=30000).skus.get().pk, 1)
    client = Client()
    client.force_login(buyer)

    html = client.get("/cart/").content.decode()
    assert '<span>满减 · 冬季焕新季</span><span class="price">-¥30.00</span>' in html
    assert 'data-testid="cart-total">¥270.00<' in html and "已减 ¥30.00" in html
    assert "-¥10.00" not in html and "满额包邮" not in html
    assert '<span>运费</span><span><span class="badge">冬季焕新季 包邮</span></span>' in html
