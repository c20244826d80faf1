"""提交订单 double-tapped on a phone: the page posts once, the button stays disabled while the
order is placed, and the buyer lands on that one order's payment page. (The server also
recognises a repeat of the same form: test_h5_walk_checkout_submit.)"""

import pytest

from fenxiao.orders.models import Order
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_address, make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_double_tap_on_submit_posts_once(phones, live_server):
    buyer = make_buyer()
    make_address(buyer)
    sku = make_product("高山乌龙茶", price=12800).skus.get()
    phone = signed_in_phone(phones, live_server, buyer, "checkout-double-tap")
    page = phone.page
    page.goto(f"/checkout/?sku={sku.pk}&qty=1")

    # The first post is answered "204 No Content" here, so the page stays as a phone shows
    # it while a slow network carries the post: what the buyer taps meanwhile is counted.
    posts = []

    def answer(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(route.request.url)
        return route.fulfill(status=204)

    page.route("**/checkout/**", answer)
    submit = page.get_by_role("button", name="提交订单")
    submit.dblclick()
    page.wait_for_timeout(500)
    assert len(posts) == 1
    assert submit.is_disabled()
    submit.click(force=True)  # tapped again while it waits: nothing
    page.wait_for_timeout(300)
    assert len(posts) == 1
    assert not Order.objects.filter(buyer=buyer).exists()

    # The post goes through this time: one order, and its payment page.
    page.unroute("**/checkout/**")
    page.reload()
    page.get_by_role("button", name="提交订单").click()
    page.wait_for_url("**/pay/")
    order = Order.objects.get(buyer=buyer)
    assert page.url.endswith(f"/orders/{order.number}/pay/")
