"""A started push in a real browser (1280 px): the page is a read-only record, so no bar is
pinned over its last rows (推送内容, 商品, 优惠券)."""

import pytest

from fenxiao.promotions.models import Push, PushStatus
from fenxiao.testing_browser import UNCOVERED

from .push_helpers import make_push, make_segment

pytestmark = pytest.mark.browser


@pytest.fixture
def merchant(operations_desk):
    operations_desk.name = "push"  # screenshots as before
    return operations_desk


def test_a_started_push_shows_every_row_with_no_bar_over_them(merchant, transactional_db):
    segment, _ = make_segment(2)
    push = make_push(segment, title="老客专享")
    Push.objects.filter(pk=push.pk).update(status=PushStatus.DONE, total=2, processed=2)
    page = merchant.page

    page.goto(f"/backend/promotions/push/{push.pk}/change/")
    page.get_by_text("推送效果").first.wait_for()
    assert page.locator("#submit-row").count() == 0
    rows = page.locator("form .form-row")
    assert rows.count() >= 9  # progress, people, report, title … coupon
    for i in range(rows.count()):
        assert rows.nth(i).evaluate(UNCOVERED), rows.nth(i).inner_text()[:40]
    page.screenshot(path=str(merchant.shot("started-push").with_name("push-started-push-bottom.png")))


def test_a_draft_push_keeps_its_save_row(merchant, transactional_db):
    segment, _ = make_segment(1)
    push = make_push(segment)
    page = merchant.page

    page.goto(f"/backend/promotions/push/{push.pk}/change/")
    page.locator("#submit-row").get_by_role("button", name="保存", exact=True).wait_for()


def test_a_push_opened_from_its_segment_counts_its_customers_at_once(merchant, transactional_db):
    """客户分群's 定向推送 link presets the segment: the count shows without touching it."""
    segment, _ = make_segment(3)
    page = merchant.page

    page.goto(f"/backend/promotions/push/add/?segment={segment.pk}")
    page.locator("#push-audience-preview", has_text="当前 3 位客户").wait_for()
    page.goto("/backend/promotions/push/add/")
    page.get_by_text("选择客户分群后显示").first.wait_for()
