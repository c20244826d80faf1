"""购物车 at 375 px: every line's quantity stepper (− n +) keeps its size and place, whether the
line shows a flash price with the list price struck through, a plain price, or a long one.
A struck price beside the stepper used to squeeze it narrower and out of line with the
others."""

import pytest

from fenxiao.orders.services.cart import add_to_cart
from fenxiao.promotions.tests.factories import make_flash
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each line's stepper box, and where it sits from the top of its line.
STEPPERS = """() => [...document.querySelectorAll('#cart-form .list-item')].map(line => {
    const box = line.querySelector('.qty').getBoundingClientRect();
    return {right: box.right, width: box.width, height: box.height,
            top: box.top - line.getBoundingClientRect().top};
})"""


def test_steppers_line_up_beside_struck_and_plain_prices_at_375(phones, live_server):
    buyer = make_buyer()
    box = make_product("收纳箱", price=12900)
    make_flash(box, price=10320, name="新品尝鲜")
    for product in (make_product("保温杯", price=8900), box, make_product("净化器", price=1299900)):
        add_to_cart(buyer, product.skus.get().pk, 1)

    page = signed_in_phone(phones, live_server, buyer, "cart-steppers").page
    page.goto("/cart/")
    flash_line = page.locator("#cart-form .list-item", has_text="收纳箱")
    assert flash_line.locator(".strike").inner_text() == "¥129.00"
    assert "¥12999.00" in page.locator("#cart-form .list-item", has_text="净化器").inner_text()

    # On a narrower phone the stepper goes below 删除, on every line alike.
    for width in (375, 320):
        page.set_viewport_size({"width": width, "height": 812})
        steppers = page.evaluate(STEPPERS)
        assert len(steppers) == 3
        first = steppers[0]
        assert first["width"] == 126  # − and + 40 px, the count 44 px, the border
        for other in steppers[1:]:
            assert other == pytest.approx(first, abs=0.5), (width, steppers)
        assert page.evaluate("document.documentElement.scrollWidth") == width
