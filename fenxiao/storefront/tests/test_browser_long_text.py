"""What buyers type is not always Chinese with spaces: an address detail, a note, an
after-sale message or a nickname can be one long run of letters. At 375 px it wraps inside
the screen, and the bars at the bottom (提交订单 and the order's actions) stay on screen
and tappable."""

import pytest

from fenxiao.distribution.services import distributors
from fenxiao.orders.services import after_sales, checkout
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox
from fenxiao.testing_browser import UNCOVERED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_DETAIL = "Room1203-" + "X" * 150
LONG_NOTE = "Note-" + "N" * 190
LONG_MESSAGE = "A" * 300


def page_width(page) -> int:
    # Not against window.innerWidth: a phone's browser widens its layout viewport (zooming
    # out) to fit a page that overflows, so that difference reads 0 on a broken page.
    return page.evaluate("document.documentElement.scrollWidth")


def on_screen(button) -> None:
    """Inside the 375 px screen, and the tap lands on it."""
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert button.evaluate(UNCOVERED)


def test_long_unbroken_text_wraps_at_375(phones, live_server):
    buyer = make_buyer(nickname="W" * 40)
    distributors.designate(buyer, make_staff())
    address = make_address(buyer, recipient="R" * 40, detail=LONG_DETAIL)
    tea = make_product("Oolong" + "T" * 70, price=12800)
    sku = tea.skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk, note=LONG_NOTE)
    pay_in_sandbox(order)
    sale = after_sales.request_after_sale(
        order,
        buyer,
        kind="refund_only",
        reason="不想要了",
        description="D" * 500,
        lines=[{"line_id": order.lines.get().pk}],
    )
    after_sales.add_message(sale, buyer, message=LONG_MESSAGE)

    phone = signed_in_phone(phones, live_server, buyer, "long-text")
    page = phone.page
    pages = {
        "checkout": f"/checkout/?sku={sku.pk}&qty=1",
        "order": f"/orders/{order.number}/",
        "after-sale": f"/orders/{order.number}/after-sales/{sale.number}/",
        "after-sale-form": f"/orders/{order.number}/after-sale/",
        "addresses": "/me/addresses/",
        "orders": "/orders/",
        "me": "/me/",
        "distribution": "/d/",
        "share": f"/d/share/?product={tea.pk}",
    }
    widths = {}
    for name, url in pages.items():
        assert page.goto(url).status == 200, url
        widths[name] = page_width(page)
        phone.shot(name)
    assert widths == dict.fromkeys(pages, 375)

    # The long texts are all there, wrapped, not cut off.
    page.goto(pages["checkout"])
    assert LONG_DETAIL in page.get_by_test_id("checkout-address").inner_text().replace("\n", "")
    on_screen(page.get_by_role("button", name="提交订单"))
    page.goto(pages["order"])
    assert LONG_DETAIL in page.get_by_test_id("order-address").inner_text().replace("\n", "")
    on_screen(page.get_by_role("button", name="取消订单并退款"))
    page.goto(pages["after-sale"])
    assert LONG_MESSAGE in page.locator("#history").inner_text().replace("\n", "")
