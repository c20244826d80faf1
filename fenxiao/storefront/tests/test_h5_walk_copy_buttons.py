"""分享赚钱 at 375 px: the 复制 beside the 微信分享文案 box is the same small pill as the one
beside the 推广链接; it stretched to the three-line box's height and read as a tall oval."""

import pytest

from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_both_copy_buttons_are_the_same_size_at_375(phones, live_server):
    distributor = make_distributor()
    page = signed_in_phone(phones, live_server, distributor.user, "copy-buttons").page
    assert page.goto("/d/share/").status == 200
    link, text = (
        page.locator(f'[data-copy="{target}"]').bounding_box() for target in ("share-url", "share-text")
    )
    assert text["height"] == pytest.approx(link["height"], abs=0.5)
    assert text["width"] == pytest.approx(link["width"], abs=0.5)
    assert text["height"] < page.locator("#share-text").bounding_box()["height"]
    assert page.evaluate("document.documentElement.scrollWidth") == 375
