"""The merchant in a real browser (1280 px): the segment edit page counts members live as
the filter changes (htmx), and the customer list and profile render without console errors."""

import pytest

from fenxiao.customers.models import Tag
from fenxiao.customers.services import tags
from fenxiao.testing import make_buyer
from fenxiao.testing_browser import UNCOVERED

from .crm import paid

pytestmark = pytest.mark.browser


@pytest.fixture
def merchant(operations_desk):
    operations_desk.name = "customers"  # screenshots as before
    return operations_desk


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
