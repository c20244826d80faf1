"""A tab bar wider than the phone scrolls sideways (我的订单's seven tabs, 佣金明细's five at
320 px). Opened on a tab past its right edge (已取消), the page showed the first tabs and no
chosen one, so 暂无订单 read as "no orders at all"; the chosen tab is now scrolled into view."""

import pytest

from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_buyer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The chosen tab's left and right edges against its bar's, as the reader sees them.
ACTIVE_IN_VIEW = """() => {
  const bar = document.querySelector(".tabs"), tab = bar.querySelector("a.active");
  const b = bar.getBoundingClientRect(), t = tab.getBoundingClientRect();
  return [tab.textContent.trim(), t.left >= b.left - 0.5 && t.right <= b.right + 0.5];
}"""


@pytest.mark.parametrize(
    ("url", "tab"), [("/orders/?status=cancelled", "已取消"), ("/d/commissions/?status=cancelled", "已取消")]
)
def test_the_chosen_tab_is_in_view_at_320(phones, live_server, url, tab):
    user = make_distributor().user if url.startswith("/d/") else make_buyer()
    page = signed_in_phone(phones, live_server, user, "active-tab").page
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.goto(url).status == 200
    assert page.evaluate(ACTIVE_IN_VIEW) == [tab, True]
    # The first tab is the one in view when it is the chosen one: nothing moves needlessly.
    page.goto(url.split("?")[0])
    assert page.evaluate("document.querySelector('.tabs').scrollLeft") == 0
