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
