"""The order page at 1280 px: its title (订单 › <number>) is shown whole beside the next
step's buttons, and the other actions open from 更多操作. With eight buttons in a row the
title was cut to 订… › 订… › 2026…"""

import pytest

from fenxiao.orders.services import after_sales

from .logistics_helpers import paid_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_order_page_title_is_whole_and_the_rest_opens_from_more(operations_desk):
    order = paid_order((1, 1))
    line = order.lines.first()
    after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": line.pk}]
    )
    page = operations_desk.page
    page.goto(f"/backend/orders/order/{order.pk}/change/")
    title = page.locator(f"h1 a[href='/backend/orders/order/{order.pk}/change/']")
    title.wait_for()
    action = f"/backend/orders/order/{order.pk}/"
    assert page.locator(f"a[href='{action}ship/']").is_visible()
    assert page.locator(f"a[href='{action}after-sale/']").is_visible()
    for crumb in (title, page.locator("h1 a[href='/backend/orders/order/']")):
        assert not crumb.evaluate("e => e.scrollWidth > e.clientWidth")
    cancel = page.locator(f"a[href='{action}cancel/']")
    assert not cancel.is_visible()
    page.get_by_text("更多操作").click()
    cancel.wait_for()
    operations_desk.shot("order-header-more")
    cancel.click()
    page.wait_for_url(f"**{action}cancel/")
