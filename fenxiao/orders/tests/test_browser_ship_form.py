"""Staff ship part of an order from its backend page, then see the parcel and its trail."""

import pytest

from fenxiao.orders.models import Order, Parcel
from fenxiao.orders.tests.test_tracking import waybill_of

from .logistics_helpers import paid_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_ship_part_of_an_order_and_see_its_trail(operations_desk, pushes_in_process):
    order = paid_order((3, 1))
    first, second = order.lines.all()
    page = operations_desk.page
    page.goto(f"/backend/orders/order/{order.pk}/ship/")
    page.get_by_label("物流公司").select_option(label="顺丰速运")
    page.get_by_label("运单号").fill("SF1420398866502")
    page.locator(f"input[name=line_{first.pk}]").fill("2")
    page.locator(f"input[name=line_{second.pk}]").fill("0")
    operations_desk.shot("ship-form")
    page.get_by_role("button", name="确认发货").click()
    page.get_by_text("已部分发货").first.wait_for()
    assert Order.objects.get(pk=order.pk).status == "pending_shipment"

    for _ in range(3):
        pushes_in_process.push(waybill_of(Parcel.objects.get(order=order)).pk)
    page.reload()
    page.get_by_text("包裹1 · 顺丰速运 SF1420398866502").wait_for()
    assert "快件已到达" in page.content()
    page.get_by_text("包裹与物流").scroll_into_view_if_needed()
    operations_desk.shot("order-parcels")
