"""我的订单 as a buyer uses it: the card of an order still to pay has 去支付 on it, a parcel on
its way has 查看物流, and a buyer with many orders can page back to every one of them."""

import re

import pytest
from django.test import Client

from fenxiao.orders.models import Order, OrderStatus
from fenxiao.orders.services import checkout
from fenxiao.testing import make_address, make_buyer, make_product, pay_in_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    user = make_buyer()
    make_address(user)
    return user


def place(buyer):
    sku = make_product("高山乌龙茶", price=12800).skus.get()
    return checkout.place_order(buyer, [(sku.pk, 1)], address_id=buyer.addresses.get().pk)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card(html: str, number: str) -> str:
    start = html.rindex('data-testid="order-card"', 0, html.index(f'href="/orders/{number}/"'))
    return html[start : html.index("</section>", start)]


def test_each_card_offers_its_next_step(buyer):
    """The list showed 需付款 ¥128.00 and no way to pay but opening the order first."""
    unpaid, paid, shipped = place(buyer), place(buyer), place(buyer)
    pay_in_sandbox(paid)
    pay_in_sandbox(shipped)
    Order.objects.filter(pk=shipped.pk).update(status=OrderStatus.SHIPPED)
    html = signed_in(buyer).get("/orders/").content.decode()
    pay = f'href="/orders/{unpaid.number}/pay/" data-testid="order-pay">去支付</a>'
    assert pay in card(html, unpaid.number)
    assert "去支付" not in card(html, paid.number) and "查看物流" not in card(html, paid.number)
    assert 'data-testid="order-track">查看物流</a>' in card(html, shipped.number)
    # The 待付款 tab shows the same button.
    tab = signed_in(buyer).get("/orders/?status=pending_payment").content.decode()
    assert f'href="/orders/{unpaid.number}/pay/"' in tab


def test_every_order_is_reachable_page_by_page(buyer, django_assert_max_num_queries):
    """Only the newest 50 orders were listed, with no link further: older ones (and their
    after-sales) were out of reach."""
    first = place(buyer)
    original = first.number
    for n in range(54):
        first.pk = None
        first.number = f"{original}{n:02d}"
        first.save()
    numbers = set(Order.objects.filter(buyer=buyer).values_list("number", flat=True))
    client = signed_in(buyer)
    seen: list[str] = []
    url = "/orders/?status="
    while url:
        with django_assert_max_num_queries(12):
            html = client.get(url).content.decode()
        seen += re.findall(r'data-testid="order-card">\s*<a [^>]*href="/orders/(\d+)/"', html)
        more = re.search(r'href="(\?status=&amp;before=\d+)" data-testid="more">更早的订单', html)
        url = "/orders/" + more.group(1).replace("&amp;", "&") if more else None
    assert len(seen) == len(set(seen)) == 55
    assert set(seen) == numbers
