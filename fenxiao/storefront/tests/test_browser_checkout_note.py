"""买家留言 on 确认订单 survives the page's own reloads: picking another address, a pickup
store or the other tab, or a coupon reloads the page, and the note typed came back empty
(the buyer found out only on the order, if at all). Once the order is placed, the next
checkout starts with an empty note."""

import pytest

from fenxiao.orders.models import Order
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "放快递柜，别敲门😀"


def test_note_survives_choosing_address_and_tab(phones, live_server):
    buyer = make_buyer()
    make_address(buyer, recipient="张三")
    make_address(buyer, recipient="李四", is_default=False)
    sku = make_product("高山乌龙茶", price=12800).skus.get()
    phone = signed_in_phone(phones, live_server, buyer, "checkout-note")
    page = phone.page
    page.goto(f"/checkout/?sku={sku.pk}&qty=1")
    note = page.locator("input[name=note]")
    note.fill(NOTE)

    page.get_by_text("李四").click()  # another address: the page reloads
    page.wait_for_url("**address=*")
    assert page.locator("input[name=note]").input_value() == NOTE

    page.get_by_test_id("fulfilment-pickup").click()
    page.wait_for_url("**fulfilment=pickup*")
    assert page.locator("input[name=note]").input_value() == NOTE
    page.get_by_test_id("fulfilment-delivery").click()
    page.wait_for_load_state()
    assert page.locator("input[name=note]").input_value() == NOTE
    phone.shot("kept")

    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/pay/")
    assert Order.objects.get(buyer=buyer).note == NOTE

    # The next purchase of the same goods starts afresh.
    page.goto(f"/checkout/?sku={sku.pk}&qty=1")
    assert page.locator("input[name=note]").input_value() == ""
