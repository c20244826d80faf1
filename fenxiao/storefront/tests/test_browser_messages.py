"""A buyer at 375 px: a shipped order's notice shows as an unread badge on 我的; opening it
under 我的 → 消息 reads it, the badge goes away, and its link leads to the order."""

import pytest

from fenxiao.notices.models import Message
from fenxiao.orders.services import checkout, lifecycle
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_notice_shows_a_badge_until_the_buyer_reads_it(phones):
    buyer = make_buyer("13500000077", password="Secret#2026", nickname="小王")
    sku = make_product("龙井", price=8800).skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)
    pay_in_sandbox(order)
    lifecycle.ship(order, make_staff(), carrier="顺丰速运", tracking_number="SF1234567890")

    phone = phones("messages")
    page = phone.page
    page.goto("/login/")
    page.get_by_label("手机号").fill("13500000077")
    page.get_by_label("密码").fill("Secret#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("我的订单").wait_for()

    # The badge on the 我的 tab, and on the 消息 entry.
    tab_badge = page.locator(".tabbar").get_by_test_id("tab-unread")
    assert tab_badge.inner_text() == "1"
    box = tab_badge.bounding_box()
    assert box["x"] + box["width"] <= 375 and box["y"] > 700  # in the bottom bar, on screen
    entry = page.get_by_test_id("me-messages")
    assert "消息" in entry.inner_text() and "1" in entry.inner_text()
    phone.shot("me-with-badge")

    entry.click()
    page.wait_for_url("**/me/messages/")
    item = page.get_by_test_id("message")
    assert item.count() == 1 and "订单已发货" in item.inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    phone.shot("list")

    item.click()
    page.get_by_text(f"您的订单 {order.number} 已发货，顺丰速运 运单号 SF1234567890").wait_for()
    assert page.locator(".tabbar").get_by_test_id("tab-unread").count() == 0  # read: the badge is gone
    phone.shot("detail")

    page.get_by_test_id("message-link").click()
    page.wait_for_url(f"**/orders/{order.number}/")
    message = Message.objects.get(user=buyer)
    assert message.read_at is not None and message.clicked_at is not None

    page.goto("/me/")
    assert page.get_by_test_id("tab-unread").count() == 0
    assert phone.errors == []
