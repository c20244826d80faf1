"""A return (退货退款) is approved only when the shop has a return address (订单设置): the
approval tells the buyer where to send the goods back. Without one the service refuses with
RETURN_ADDRESS_MISSING (409), so the backend, the staff API, a return staff start themselves
and the deadline sweep all refuse alike and nothing changes; the backend's 同意 page says
why and links to 订单设置 instead of offering the button. A refund only needs no address."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from fenxiao.customers.services.staff import FINANCE, ensure_staff_groups
from fenxiao.notices.models import Message
from fenxiao.orders.models import AfterSale, AfterSaleLog, OrderEvent, OrderSettings
from fenxiao.orders.services import after_sale_sweep, after_sales, lifecycle
from fenxiao.testing import api_for, assert_refused, login, make_staff

from .backend import make_order, pay, set_return_address, texts, url

pytestmark = pytest.mark.django_db

MISSING = "尚未设置退货地址，不能同意退货：请先在“订单设置”中填写退货地址，买家才知道把商品寄回哪里"


def shipped_order():
    order = pay(make_order(prices=(3000,), quantity=2))
    lifecycle.ship(order, make_staff("shipper"), carrier="shunfeng", tracking_number="SF123456")
    order.refresh_from_db()
    return order


def requested(kind="return_refund"):
    order = shipped_order()
    return after_sales.request_after_sale(
        order,
        order.buyer,
        kind=kind,
        reason_code="quality",
        lines=[{"line_id": order.lines.get().pk, "quantity": 1}],
    )


def trail(sale: AfterSale) -> tuple:
    sale.refresh_from_db()
    return (
        sale.status,
        sale.decided_at,
        AfterSaleLog.objects.filter(after_sale=sale).count(),
        OrderEvent.objects.filter(order=sale.order).count(),
        Message.objects.filter(user=sale.order.buyer).count(),
    )


def test_the_service_refuses_a_return_without_an_address_and_approves_it_once_set():
    sale = requested()
    before = trail(sale)
    staff = make_staff("aftersales")
    with pytest.raises(after_sales.ReturnAddressMissing) as refused:
        after_sales.approve(sale, staff)
    assert (refused.value.code, refused.value.status, refused.value.message) == (
        "RETURN_ADDRESS_MISSING",
        409,
        MISSING,
    )
    assert trail(sale) == before
    # A recipient and a phone are no address to send a parcel to.
    set_return_address(address="  ")
    with pytest.raises(after_sales.ReturnAddressMissing):
        after_sales.approve(sale, staff)

    set_return_address()
    after_sales.approve(sale, staff)
    sale.refresh_from_db()
    assert sale.status == "awaiting_return"
    assert (
        "退货地址：王仓管 13800000000 浙江省杭州市余杭区仓前街道 1 号退货仓"
        in sale.logs.get(kind="approved").message
    )


def test_a_refund_only_needs_no_address():
    sale = requested(kind="refund_only")
    after_sales.approve(sale, make_staff("aftersales"))
    sale.refresh_from_db()
    assert sale.status in ("approved", "refunded") and sale.decided_at is not None


def test_the_staff_api_refuses_with_the_code():
    staff = api_for(make_staff(perms=["orders.view_order", "orders.change_order", "orders.change_aftersale"]))
    sale = requested()
    before = trail(sale)
    assert_refused(staff.post(f"/staff/after-sales/{sale.number}/approve"), 409, "RETURN_ADDRESS_MISSING")
    assert trail(sale) == before
    # A return staff start themselves is approved at once: refused, and no request is left.
    order = shipped_order()
    body = {
        "kind": "return_refund",
        "reason": "买家要求退货",
        "lines": [{"line_id": order.lines.get().pk, "quantity": 1}],
    }
    assert_refused(staff.post(f"/staff/orders/{order.number}/refunds", body), 409, "RETURN_ADDRESS_MISSING")
    assert not AfterSale.objects.filter(order=order).exists()
    set_return_address()
    assert staff.post(f"/staff/after-sales/{sale.number}/approve").json()["status"] == "awaiting_return"


def test_the_backend_page_shows_why_and_links_to_the_order_settings(boss):
    sale = requested()
    before = trail(sale)
    page = boss.get(url(sale, "approve"))
    text = page.content.decode()
    assert page.status_code == 200
    assert MISSING in text and 'data-testid="return-address-missing"' in text
    assert f'href="{reverse("admin:orders_ordersettings_changelist")}"' in text
    assert "前往订单设置填写退货地址" in text
    assert "同意退货，等待买家寄回" not in text and 'name="_confirm"' not in text
    # A POST (a page left open before the address was cleared) is refused the same way.
    posted = boss.post(url(sale, "approve"), {"_confirm": "1"})
    assert posted.status_code == 200 and MISSING in texts(posted)
    assert trail(sale) == before

    set_return_address()
    text = boss.get(url(sale, "approve")).content.decode()
    assert "同意退货，等待买家寄回" in text and MISSING not in text
    done = boss.post(url(sale, "approve"), {"_confirm": "1"})
    assert done.status_code == 302
    sale.refresh_from_db()
    assert sale.status == "awaiting_return"


def test_staff_who_may_not_edit_the_settings_are_told_whom_to_ask():
    ensure_staff_groups()
    user = make_staff("caiwu")
    user.groups.add(Group.objects.get(name=FINANCE))  # approves after-sales, reads 订单设置
    sale = requested()
    text = login(user).get(url(sale, "approve")).content.decode()
    assert MISSING in text and "请联系可修改订单设置的同事填写退货地址后再处理。" in text
    assert "前往订单设置填写退货地址" not in text


def test_the_sweep_leaves_an_unanswered_return_waiting_until_the_address_is_set():
    sale = requested()
    later = timezone.now() + timedelta(days=OrderSettings.current().after_sale_respond_days, hours=1)
    assert after_sale_sweep.sweep_deadlines(later)["approved"] == 0
    sale.refresh_from_db()
    assert sale.status == "requested"
    set_return_address()
    assert after_sale_sweep.sweep_deadlines(later)["approved"] == 1
    sale.refresh_from_db()
    assert sale.status == "awaiting_return"


def test_the_demo_shop_has_a_return_address():
    from fenxiao.demo.shop.orders import configure_order_settings

    assert not after_sales.return_address_missing(configure_order_settings())
