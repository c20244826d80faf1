"""我的优惠券 at 375 px: a copy's validity (2026-12-12 04:28 前有效) breaks at its space when
it must, never leaving 效 alone on the next line (…前有 / 效)."""

import pytest

from fenxiao.promotions.services import coupons
from fenxiao.promotions.tests.factories import make_coupon
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.storefront.tests.test_browser_withdraw_page import DATE_LINES
from fenxiao.testing import make_buyer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_validity_keeps_its_phrase_whole_at_375(phones, live_server):
    buyer = make_buyer()
    coupon = make_coupon(amount=1000, min_spend=9900, name="新人专享券", valid_days=7)
    coupons.claim(buyer, coupon.pk)
    page = signed_in_phone(phones, live_server, buyer, "coupon-validity").page
    assert page.goto("/me/coupons/").status == 200
    validity = page.get_by_test_id("copy-validity")
    assert validity.inner_text().endswith("前有效")
    assert page.evaluate(DATE_LINES, [validity.element_handle(), "前有效"]) == 1
    assert page.evaluate("document.documentElement.scrollWidth") == 375
