"""The product page's bar at 320 px (iPhone SE 1st generation, small Android phones):
加入购物车 and 立即购买 each broke onto two lines (加入购 / 物车, 立即购 / 买). Each label now
sits on one line, inside the screen, in Chinese and in English."""

import pytest

from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How many lines a button's label takes: one client rect per line box of its text.
LINES = """el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    return tops.size;
}"""


@pytest.mark.parametrize("language", [None, "en"])
def test_buy_buttons_keep_their_label_on_one_line_at_320(phones, live_server, language):
    product = make_product("液态硅胶手机壳", price=3990, specs_list=[{"颜色": "午夜黑"}, {"颜色": "雾霾蓝"}])
    phone = signed_in_phone(phones, live_server, make_buyer(), f"buybar-320-{language}", language=language)
    page = phone.page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/products/{product.pk}/")

    buttons = page.locator(".buybar .btn")
    assert buttons.count() == 2
    for i in range(2):
        button = buttons.nth(i)
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320
        assert button.evaluate(LINES) == 1, button.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") == 320
    phone.shot("bar")
