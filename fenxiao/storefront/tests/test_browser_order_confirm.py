"""取消订单并退款 and 确认收货 cannot be undone: the order page asks first, in a dialog of
its own. 再想想 leaves the order as it was; the dialog's button does it. Without
JavaScript the forms post as before (test_pages)."""

import pytest

from fenxiao.orders.models import OrderStatus
from fenxiao.orders.services import checkout, lifecycle
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def paid_order(buyer, address):
    sku = make_product("高山乌龙茶", price=12800).skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk)
    pay_in_sandbox(order)
    return order


def test_confirm_receipt_and_cancel_ask_first(phones, live_server):
    buyer = make_buyer()
    address = make_address(buyer)
    shipped, unshipped = paid_order(buyer, address), paid_order(buyer, address)
    lifecycle.ship(shipped, make_staff(), carrier="shunfeng", tracking_number="SF1400000001")
    phone = signed_in_phone(phones, live_server, buyer, "order-confirm")
    page = phone.page

    page.goto(f"/orders/{shipped.number}/")
    dialog = page.get_by_test_id("confirm-receipt")
    assert dialog.is_hidden()
    page.locator(".buybar").get_by_role("button", name="确认收货").click()
    dialog.wait_for()
    assert "请确认已收到全部商品" in dialog.inner_text()
    phone.shot("receipt-dialog")
    dialog.get_by_role("button", name="再想想").click()
    dialog.wait_for(state="hidden")
    page.wait_for_timeout(300)
    shipped.refresh_from_db()
    assert shipped.status == OrderStatus.SHIPPED
    page.locator(".buybar").get_by_role("button", name="确认收货").click()
    dialog.get_by_role("button", name="确认收货").click()
    page.get_by_text("已确认收货").wait_for()
    shipped.refresh_from_db()
    assert shipped.status == OrderStatus.COMPLETED

    page.goto(f"/orders/{unshipped.number}/")
    dialog = page.get_by_test_id("confirm-cancel")
    page.get_by_role("button", name="取消订单并退款").click()
    dialog.wait_for()
    assert "已付款项将原路退回" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    unshipped.refresh_from_db()
    assert unshipped.status == OrderStatus.PENDING_SHIPMENT
    page.get_by_role("button", name="取消订单并退款").click()
    dialog.get_by_role("button", name="确认取消").click()
    page.get_by_text("订单已取消，款项将原路退回").wait_for()
    unshipped.refresh_from_db()
    assert unshipped.status == OrderStatus.CANCELLED
