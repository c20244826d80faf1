"""申请售后 at 375 px: a line's 数量 and 金额 boxes sit side by side at the same height. The
金额（元，可不填） label takes two lines there and used to push its box below the 数量 box,
leaving 填） alone on the second line."""

import pytest

from fenxiao.orders.services import checkout
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.storefront.tests.test_browser_withdraw_page import DATE_LINES
from fenxiao.testing import make_address, make_buyer, make_product, pay_in_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lines_quantity_and_amount_boxes_line_up_at_375(phones, live_server):
    buyer = make_buyer()
    sku = make_product("轻量防泼水连帽夹克 深灰 / M", price=25900).skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)
    line = order.lines.get()

    page = signed_in_phone(phones, live_server, buyer, "after-sale-fields").page
    assert page.goto(f"/orders/{order.number}/after-sale/").status == 200
    quantity = page.locator(f'input[name="qty_{line.pk}"]').bounding_box()
    amount = page.locator(f'input[name="amount_{line.pk}"]').bounding_box()
    assert amount["y"] == pytest.approx(quantity["y"], abs=0.5)
    assert amount["height"] == pytest.approx(quantity["height"], abs=0.5)
    label = page.locator(f'label:has(input[name="amount_{line.pk}"]) > span').element_handle()
    assert page.evaluate(DATE_LINES, [label, "可不填）"]) == 1
    assert page.evaluate("document.documentElement.scrollWidth") == 375
