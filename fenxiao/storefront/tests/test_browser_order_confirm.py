"""What cannot be undone asks first, in a dialog of its own: 取消订单并退款 and 确认收货 on
the order page, deleting an address, withdrawing an after-sale (from the order or its own
page); 清空足迹 in test_browser_trail. 再想想 (or Escape) leaves things as they were; the
dialog's button does it. Without JavaScript the forms post as before (test_pages)."""

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


def test_deleting_an_address_and_withdrawing_an_after_sale_ask_first(phones, live_server):
    from fenxiao.customers.models import Address
    from fenxiao.orders.models import AfterSale, AfterSaleStatus
    from fenxiao.orders.services import after_sales

    buyer = make_buyer()
    home = make_address(buyer, recipient="张三")
    office = make_address(buyer, recipient="李四", is_default=False)
    order = paid_order(buyer, home)
    sale = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": order.lines.get().pk}]
    )
    phone = signed_in_phone(phones, live_server, buyer, "ask-first")
    page = phone.page

    page.goto("/me/addresses/")
    dialog = page.get_by_test_id("confirm-delete")
    assert dialog.is_hidden()
    page.locator("section", has_text="李四").get_by_role("button", name="删除").click()
    dialog.wait_for()
    assert "确定删除这个收货地址吗" in dialog.inner_text()
    phone.shot("address-delete-dialog")
    dialog.get_by_role("button", name="再想想").click()
    dialog.wait_for(state="hidden")
    assert Address.objects.filter(pk=office.pk).exists()
    page.locator("section", has_text="李四").get_by_role("button", name="删除").click()
    dialog.get_by_role("button", name="删除").click()
    page.get_by_text("地址已删除").wait_for()
    assert list(Address.objects.filter(user=buyer).values_list("pk", flat=True)) == [home.pk]

    # Withdrawn from the order page, after a second thought.
    page.goto(f"/orders/{order.number}/")
    dialog = page.get_by_test_id("confirm-withdraw")
    page.get_by_role("button", name="撤销申请").click()
    dialog.wait_for()
    assert "仍在售后期内的，可以重新申请" in dialog.inner_text()
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert AfterSale.objects.get(pk=sale.pk).status == AfterSaleStatus.REQUESTED
    page.get_by_role("button", name="撤销申请").click()
    dialog.get_by_role("button", name="确认撤销").click()
    page.get_by_text("已撤销售后申请").wait_for()
    assert AfterSale.objects.get(pk=sale.pk).status == AfterSaleStatus.WITHDRAWN


def test_the_after_sale_page_asks_before_withdrawing(phones, live_server):
    from fenxiao.orders.models import AfterSale, AfterSaleStatus
    from fenxiao.orders.services import after_sales

    buyer = make_buyer()
    order = paid_order(buyer, make_address(buyer))
    sale = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": order.lines.get().pk}]
    )
    phone = signed_in_phone(phones, live_server, buyer, "after-sale-withdraw")
    page = phone.page
    page.goto(f"/orders/{order.number}/after-sales/{sale.number}/")
    page.locator(".as-bar").get_by_role("button", name="撤销申请").click()
    dialog = page.get_by_test_id("confirm-withdraw")
    dialog.wait_for()
    phone.shot("withdraw-dialog")
    dialog.get_by_role("button", name="确认撤销").click()
    page.get_by_text("已撤销售后申请").wait_for()
    assert AfterSale.objects.get(pk=sale.pk).status == AfterSaleStatus.WITHDRAWN
