"""An order's cancel reason (取消原因) and an after-sale's reason (售后原因) read in their
reader's language where the system wrote them — a timeout, the buyer's button, an order
closed by refunding all of it, a reason picked from the list — on the backend, the buyer's
H5 pages and the APIs; what a person typed reads as typed. The rows keep the Chinese text,
for exports and search."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from fenxiao.orders.models import Order
from fenxiao.orders.services import after_sales, lifecycle, sweeps
from fenxiao.testing import api_for, in_english, login, make_staff

from .backend import make_order, pay, url

pytestmark = pytest.mark.django_db


def reason(order: Order, language: str) -> str:
    order.refresh_from_db()
    with translation.override(language):
        return order.cancel_reason_text


def test_a_timed_out_order_reads_in_english_and_keeps_its_chinese_reason():
    order = make_order()
    Order.objects.filter(pk=order.pk).update(pay_deadline=timezone.now() - timedelta(minutes=1))
    assert sweeps.cancel_expired_orders() == 1
    assert reason(order, "en") == "Not paid in time, cancelled automatically"
    assert reason(order, "zh-hans") == order.cancel_reason == "超时未付款，系统自动取消"


def test_the_buyers_own_words_read_as_typed_and_the_default_is_translated():
    typed, default = make_order(), make_order()
    lifecycle.cancel(typed, typed.buyer, reason="地址写错了")
    lifecycle.cancel(default, default.buyer)
    assert reason(typed, "en") == "地址写错了"
    assert reason(default, "en") == "Cancelled by the buyer"
    assert reason(default, "zh-hans") == "买家取消"


def test_an_order_closed_by_its_full_refund_names_the_refund_in_the_readers_language():
    typed, default = pay(make_order()), pay(make_order())
    lifecycle.cancel(typed, typed.buyer, reason="拍错了")
    lifecycle.cancel(default, default.buyer)
    assert reason(typed, "zh-hans") == typed.cancel_reason == "全额退款：拍错了"
    assert reason(typed, "en") == "Refunded in full: 拍错了"
    assert reason(default, "zh-hans") == "全额退款：取消订单"
    assert reason(default, "en") == "Refunded in full: Order cancelled"


def test_the_backend_h5_and_api_show_the_reason_in_the_readers_language():
    order = make_order()
    lifecycle.cancel(order, order.buyer)
    staff_page = in_english(login(make_staff("boss", superuser=True))).get(url(order)).content.decode()
    assert "Cancelled by the buyer" in staff_page and "买家取消" not in staff_page
    h5 = in_english(login(order.buyer)).get(reverse("storefront:order_detail", args=[order.number]))
    assert "Cancelled by the buyer" in h5.content.decode()
    api = api_for(order.buyer)
    english = api.client.get(f"/api/v1/orders/{order.number}", HTTP_ACCEPT_LANGUAGE="en", **api._headers())
    assert english.json()["cancel_reason"] == "Cancelled by the buyer"
    assert api.get(f"/orders/{order.number}").json()["cancel_reason"] == "买家取消"


def test_an_after_sales_listed_reason_reads_in_the_readers_language():
    staff = make_staff("boss", superuser=True)
    order = pay(make_order())
    lifecycle.ship(order, staff, carrier="yuantong", tracking_number="YT1234567890")
    listed = after_sales.request_after_sale(
        order,
        order.buyer,
        kind="refund_only",
        reason_code="quality",
        lines=[{"line_id": order.lines.get().pk}],
    )
    assert listed.reason == "商品质量问题"
    with translation.override("en"):
        english = listed.reason_text
    assert english != listed.reason and english.isascii()
    page = in_english(login(staff)).get(url(listed)).content.decode()
    assert english in page and "商品质量问题" not in page
    h5 = reverse("storefront:after_sale_detail", args=[order.number, listed.number])
    assert english in in_english(login(order.buyer)).get(h5).content.decode()
    api = api_for(order.buyer)
    reply = api.client.get(
        f"/api/v1/after-sales/{listed.number}", HTTP_ACCEPT_LANGUAGE="en", **api._headers()
    )
    assert reply.json()["reason"] == english
