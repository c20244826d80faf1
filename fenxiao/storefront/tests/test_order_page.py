"""The buyer's order pages, read through the test client (what the server sends)."""

import pytest
from django.test import Client

from fenxiao.orders.models import OrderStatus
from fenxiao.orders.services import checkout, lifecycle
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    user = make_buyer()
    make_address(user)
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def place(buyer, **extra):
    sku = make_product("高山乌龙茶", price=12800).skus.get()
    return checkout.place_order(buyer, [(sku.pk, 1)], address_id=buyer.addresses.get().pk, **extra)


def test_confirm_receipt_asks_first_and_still_posts_without_javascript(buyer):
    order = place(buyer)
    pay_in_sandbox(order)
    lifecycle.ship(order, make_staff(), carrier="shunfeng", tracking_number="SF1400000001")
    client = signed_in(buyer)

    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'data-confirm="confirm-receipt"' in page
    assert '<div class="confirm-mask" id="confirm-receipt" hidden' in page
    assert "请确认已收到全部商品" in page

    done = client.post(f"/orders/{order.number}/confirm/", follow=True)
    assert "已确认收货" in done.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_the_pay_page_of_a_paid_order_says_it_is_paid(buyer):
    order = place(buyer)
    client = signed_in(buyer)
    unpaid = client.get(f"/orders/{order.number}/pay/").content.decode()
    assert "立即支付" in unpaid and "订单已支付" not in unpaid

    pay_in_sandbox(order)
    page = client.get(f"/orders/{order.number}/pay/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "订单已支付" in text and "¥128.00" in text
    # Nothing to pay any more: no deadline, no 立即支付.
    assert "立即支付" not in text and "前完成支付" not in text
    assert f'href="/orders/{order.number}/"' in text


def test_the_pay_page_of_a_cancelled_order_says_it_is_closed(buyer):
    order = place(buyer)
    lifecycle.cancel(order, buyer, reason="不想要了")
    text = signed_in(buyer).get(f"/orders/{order.number}/pay/").content.decode()
    assert "订单已关闭" in text and "不想要了" in text
    assert "立即支付" not in text and "前完成支付" not in text
