"""A buyer at 375 px sees an order shipped in two parcels: each with its carrier, a waybill
number to copy, and the trail the tracking service pushed, newest first."""

import pytest

from fenxiao.orders.services import shipments
from fenxiao.orders.services.checkout import place_order
from fenxiao.orders.tests.test_tracking import waybill_of
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_buyer_sees_each_parcel_and_its_trail(phones, pushes_in_process):
    buyer = make_buyer("13500000088", password="Secret#2026", nickname="小李")
    tea = make_product("西湖龙井 明前特级 250g", price=28800).skus.get()
    cup = make_product("青瓷盖碗 三才碗", price=6800).skus.get()
    order = place_order(buyer, [(tea.pk, 2), (cup.pk, 1)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)
    tea_line = order.lines.get(sku=tea)
    staff = make_staff()
    first = shipments.ship_parcel(
        order, staff, carrier="顺丰", tracking_number="SF1420398866502", lines={tea_line.pk: 2}
    )
    second = shipments.ship_parcel(order, staff, carrier="中通", tracking_number="ZT78451203365")
    for _ in pushes_in_process.STEPS:
        pushes_in_process.push(waybill_of(first).pk)  # delivered and signed for
    for _ in range(2):
        pushes_in_process.push(waybill_of(second).pk)  # on its way

    phone = phones("tracking")
    page = phone.page
    page.goto("/login/")
    page.get_by_label("手机号").fill("13500000088")
    page.get_by_label("密码").fill("Secret#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("我的订单").wait_for()
    page.goto(f"/orders/{order.number}/")

    parcels = page.get_by_test_id("parcel")
    assert parcels.count() == 2
    signed, moving = parcels.nth(0), parcels.nth(1)
    assert "包裹1 · 顺丰速运" in signed.inner_text()
    assert signed.get_by_test_id("parcel-state").inner_text() == "已签收"
    assert signed.get_by_test_id("tracking").input_value() == "SF1420398866502"
    newest = signed.get_by_test_id("trail-item").first
    assert "已签收" in newest.inner_text() and "签收人" in newest.inner_text()
    # Three lines shown, the two older ones behind 查看全部物流.
    assert signed.get_by_test_id("trail-item").filter(visible=True).count() == 3
    signed.get_by_text("查看全部物流（5 条）").click()
    assert signed.get_by_test_id("trail-item").filter(visible=True).count() == 5
    assert "已揽收" in signed.get_by_test_id("trail-item").last.inner_text()

    assert "包裹2 · 中通快递" in moving.inner_text()
    assert moving.get_by_test_id("parcel-state").inner_text() == "运输中"
    assert moving.get_by_test_id("trail-item").count() == 2

    moving.get_by_role("button", name="复制").click()
    moving.get_by_role("button", name="已复制").wait_for()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    path = phone.shot("order-trail")
    assert path.exists()
    assert phone.errors == []
