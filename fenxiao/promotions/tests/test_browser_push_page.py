"""A started push in a real browser (1280 px): the page is a read-only record, so no bar is
pinned over its last rows (推送内容, 商品, 优惠券)."""

import pytest
from django.contrib.auth.models import Group

from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.promotions.models import Push, PushStatus
from fenxiao.testing import make_staff
from fenxiao.testing_browser import Phone

from .push_helpers import make_push, make_segment

pytestmark = pytest.mark.browser

# True when the element's centre, scrolled to the bottom edge of the window, is the
# element itself (or inside it), not a bar drawn over it.
UNCOVERED = """el => {
    el.scrollIntoView({block: "end"});
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.bottom - 4);
    return el.contains(hit);
}"""


@pytest.fixture
def merchant(browser, live_server):
    ensure_staff_groups()
    staff = make_staff("ops")
    staff.groups.add(Group.objects.get(name=OPERATIONS))
    screen = Phone(browser, live_server.url, "push", desktop=True)
    page = screen.page
    page.goto("/backend/login/")
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill("Staff#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/backend/")
    yield screen
    errors = screen.errors
    screen.close()
    assert not errors, f"console errors: {errors}"


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
