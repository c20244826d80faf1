"""确认订单 → 到店自提 at 375 px: a store's phone number reads as one number, never split over
two lines after its area code (0571- / 87001234, as the demo's stores showed)."""

import pytest

from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.storefront.tests.test_browser_withdraw_page import DATE_LINES
from fenxiao.stores.testing import make_store
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_pickup_stores_phone_stays_on_one_line_at_375(phones, live_server):
    sku = make_product("龙井茶", stock=10).skus.get()
    make_store(
        "杭州湖滨店",
        stock={sku.pk: 3},
        address_detail="湖滨路 23 号",
        hours="10:00-22:00，周一至周日",
        phone="0571-87001234",
    )
    buyer = make_buyer()
    make_address(buyer)
    page = signed_in_phone(phones, live_server, buyer, "pickup-phone").page
    assert page.goto(f"/checkout/?sku={sku.pk}&qty=1&fulfilment=pickup").status == 200
    store = page.get_by_test_id("pickup-store")
    assert "0571-87001234" in store.inner_text()

    # DATE_LINES counts the lines any given text's characters sit on.
    assert page.evaluate(DATE_LINES, [store.element_handle(), "0571-87001234"]) == 1
    assert page.evaluate("document.documentElement.scrollWidth") == 375
