"""分享赚钱 leads to 推广商品: the page offered the shop's link, its QR code and coupons, and
no way to the products a distributor earns on (each product page has 分享赚 and its poster)."""

import pytest
from django.test import Client

from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


def test_the_share_page_leads_to_the_products_to_share():
    distributor = make_distributor()
    client = Client()
    client.force_login(distributor.user)
    html = client.get("/d/share/").content.decode()
    assert '<a class="section coupon-entry" href="/" data-testid="share-products">' in html
    assert "分享商品" in html and "去商城挑一件 ›" in html
    # A product's own share page is already about one product: no such entry there.
    product = make_product("明前龙井")
    assert "share-products" not in client.get(f"/d/share/?product={product.pk}").content.decode()
