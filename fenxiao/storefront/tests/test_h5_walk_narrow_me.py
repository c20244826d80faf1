"""我的 and 分销中心 at 320 px: 退款/售后 stays on one line like the other four order shortcuts
(it broke as 退款/售 | 后), and a 40-character nickname takes one line cut with …, leaving the
grade beside it on 分销中心 (it wrapped over four lines and pushed the grade down)."""

import pytest

from fenxiao.customers.services import accounts
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.storefront.tests.test_browser_withdraw_page import DATE_LINES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "长" * 40
# The rendered height of an element, in lines of its own font.
LINES_OF = "el => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight))"


def test_my_page_and_the_center_at_320(phones, live_server):
    distributor = make_distributor()
    accounts.update_profile(distributor.user, nickname=LONG)
    page = signed_in_phone(phones, live_server, distributor.user, "narrow-me").page
    page.set_viewport_size({"width": 320, "height": 700})

    assert page.goto("/me/").status == 200
    shortcut = page.locator('[data-testid="me-after-sales"]').element_handle()
    assert page.evaluate(DATE_LINES, [shortcut, "退款/售后"]) == 1
    name = page.locator('[data-testid="me-name"]')
    assert page.evaluate(LINES_OF, name.element_handle()) == 1
    assert name.inner_text() == LONG  # cut on screen only: the whole name is still there
    assert page.evaluate("document.documentElement.scrollWidth") == 320

    assert page.goto("/d/").status == 200
    head = page.locator('[data-testid="dist-name"]')
    assert page.evaluate(LINES_OF, head.element_handle()) == 1
    grade, name = head.locator(".grade").bounding_box(), head.locator(".name").bounding_box()
    assert grade["y"] == pytest.approx(name["y"], abs=2) and grade["x"] + grade["width"] <= 320
    assert page.evaluate("document.documentElement.scrollWidth") == 320
