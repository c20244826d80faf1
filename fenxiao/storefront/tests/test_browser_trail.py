"""A buyer browses a product on a phone and finds it again on 我的足迹."""

import pytest

from fenxiao.analytics.models import VisitorDay
from fenxiao.analytics.services import tracking
from fenxiao.storefront.tests.test_browser import product_with_image
from fenxiao.testing import make_buyer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_browsed_product_is_on_my_trail_at_375(phones, settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path
    tea = product_with_image("明前龙井", price=12800)
    product_with_image("普洱饼茶", price=5600)  # not looked at
    make_buyer("13500000002", password="Secret#2026", nickname="茶客")
    phone = phones("trail")
    page = phone.page
    page.goto("/login/")
    page.get_by_label("手机号").fill("13500000002")
    page.get_by_label("密码").fill("Secret#2026")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("我的订单").wait_for()

    page.goto(f"/products/{tea.pk}/")
    page.get_by_text("明前龙井").first.wait_for()
    page.goto("/me/")
    page.get_by_role("link", name="我的足迹").click()
    page.wait_for_url("**/me/trail/")
    item = page.get_by_test_id("trail-item")
    assert item.count() == 1
    assert "明前龙井" in item.inner_text() and "¥128.00" in item.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    phone.shot("my-trail")

    # The visitor cookie is first-party and out of scripts' reach.
    (cookie,) = [c for c in phone.context.cookies() if c["name"] == tracking.VISITOR_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    row = VisitorDay.objects.get(visitor=cookie["value"])
    assert row.product_views == 1 and row.page_views >= 4 and row.buyer is not None

    item.click()
    page.wait_for_url(f"**/products/{tea.pk}/")
    page.goto("/me/trail/")
    page.get_by_role("button", name="清空足迹").click()
    # Clearing cannot be undone: the page asks first.
    dialog = page.get_by_test_id("confirm-clear")
    dialog.wait_for()
    assert "清空后不能恢复" in dialog.inner_text()
    dialog.get_by_role("button", name="清空", exact=True).click()
    page.get_by_text("足迹已清空").wait_for()
    assert page.get_by_test_id("trail-item").count() == 0
