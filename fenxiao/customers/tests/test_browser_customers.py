"""The merchant in a real browser (1280 px): the segment edit page counts members live as
the filter changes (htmx), and the customer list and profile render without console errors."""

import pytest

from fenxiao.customers.models import Tag
from fenxiao.customers.services import tags
from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.testing import make_buyer, make_staff
from fenxiao.testing_browser import Phone

from .crm import paid

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
    from django.contrib.auth.models import Group

    ensure_staff_groups()
    staff = make_staff("ops")
    staff.groups.add(Group.objects.get(name=OPERATIONS))
    screen = Phone(browser, live_server.url, "customers", desktop=True)
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


def test_segment_count_follows_the_filter_and_customer_pages_render(merchant, transactional_db):
    vip = Tag.objects.create(name="VIP")
    big, _ = paid(price=50000)
    small, _ = paid(price=1000)
    make_buyer()
    tags.add_manual(vip, [big.pk, small.pk])
    page = merchant.page

    page.goto("/backend/customers/segment/add/")
    count = page.locator("[data-live-count]")
    count.wait_for()
    assert count.inner_text() == "3"
    page.get_by_label("VIP").first.check()
    page.wait_for_function("document.querySelector('[data-live-count]').innerText === '2'")
    page.get_by_label("累计消费 ≥（元）").fill("100")
    page.get_by_label("累计消费 ≥（元）").blur()
    page.wait_for_function("document.querySelector('[data-live-count]').innerText === '1'")
    page.get_by_label("累计消费 ≤（元）").fill("50")
    page.get_by_label("累计消费 ≤（元）").blur()
    page.get_by_text("累计消费下限不能大于上限").first.wait_for()
    merchant.shot("segment-live-count")

    page.goto("/backend/customers/customer/")
    page.get_by_text("¥500.00").first.wait_for()
    merchant.shot("customer-list")
    page.goto(f"/backend/customers/customer/{big.pk}/change/")
    page.locator("#customer-orders").get_by_text("已付款").or_(page.get_by_text("待发货")).first.wait_for()
    merchant.shot("customer-profile")


def test_the_segment_page_hides_no_field_behind_its_save_row(merchant, transactional_db):
    for name in ("VIP", "企业采购", "沉睡", "高消费", "新客", "回头客"):
        Tag.objects.get_or_create(name=name)
    page = merchant.page

    page.goto("/backend/customers/segment/add/")
    page.locator("[data-live-count]").wait_for()
    rows = page.locator("form .form-row")
    assert rows.count() >= 10
    for i in range(rows.count()):
        assert rows.nth(i).evaluate(UNCOVERED), rows.nth(i).inner_text()[:40]
    # Blank is "no bound": the box must not show a zero that reads like a limit.
    assert page.get_by_label("累计消费 ≤（元）").get_attribute("placeholder") == "不限"
    page.locator("form .form-row", has_text="不包含标签").evaluate("el => el.scrollIntoView({block: 'end'})")
    page.screenshot(path=str(merchant.shot("segment-edit").with_name("customers-segment-edit-viewport.png")))
