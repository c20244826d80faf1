"""A basket checkout would refuse (a flash sale's per-buyer limit passed, its stock gone)
says why in the cart and keeps 去结算 off until the buyer changes it: the button led to
checkout, which refused with the same message and sent the buyer back to the cart."""

import re

import pytest
from django.test import Client

from fenxiao.orders.services.cart import add_to_cart
from fenxiao.promotions.tests.factories import make_flash
from fenxiao.testing import make_buyer, make_product

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def checkout_button(html: str) -> str:
    return re.search(r"<button[^>]*type=\"submit\" data-checkout-link[^>]*>", html).group(0)


def test_a_flash_line_past_its_limit_keeps_checkout_off_until_changed():
    buyer = make_buyer()
    product = make_product("数据线", price=2990)
    make_flash(product, price=1495, limit=1, name="数据线秒杀")
    line = add_to_cart(buyer, product.skus.get().pk, 2)
    client = Client()
    client.force_login(buyer)

    html = client.get("/cart/").content.decode()
    assert "“数据线秒杀”每人限购1件，最多还可购买1件" in html
    assert "disabled" in checkout_button(html)

    reply = client.post(
        f"/cart/lines/{line.pk}/", {"selection": "1", "line": [line.pk], "quantity": 1}, **HTMX
    )
    html = reply.content.decode()
    assert "每人限购" not in html
    assert "disabled" not in checkout_button(html)
    assert 'data-testid="cart-total">¥14.95<' in html
