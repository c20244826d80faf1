"""A store's page at 1280 px: its buttons (门店库存, 门店码, 会员, 销售, 添加员工) leave the
breadcrumb whole; with the longer 门店码与导购 · 门店会员 · 门店销售 it was cut to 门.. › 门.. ›
杭州..."""

import pytest

from fenxiao.stores.models import Store
from fenxiao.stores.testing import make_store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_store_pages_breadcrumb_is_shown_whole(operations_desk):
    store = make_store("杭州湖滨店")
    page = operations_desk.page
    page.goto(f"/backend/stores/store/{store.pk}/change/")
    crumbs = page.locator(f"a[href='/backend/stores/store/{store.pk}/change/'].truncate")
    crumbs.wait_for()
    assert page.get_by_role("link", name="添加员工").is_visible()
    cut = crumbs.evaluate("e => e.scrollWidth > e.clientWidth")
    page.screenshot(path="/tmp/store_page_actions.png")
    assert not cut
    for crumb in page.locator("a[href='/backend/stores/store/'].truncate").all():
        assert not crumb.evaluate("e => e.scrollWidth > e.clientWidth")


def test_a_new_stores_city_and_district_follow_the_province_picked(operations_desk):
    page = operations_desk.page
    page.goto("/backend/stores/store/add/")
    page.wait_for_selector("form[data-ready='1']")
    page.get_by_label("门店名称").fill("杭州湖滨店")
    page.get_by_label("省").select_option("浙江省")
    page.get_by_label("市").select_option("杭州市")
    page.get_by_label("区/县").select_option("上城区")
    page.get_by_label("详细地址").fill("湖滨路 23 号")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/backend/stores/store/")
    assert Store.objects.get().address_text == "浙江省杭州市上城区湖滨路 23 号"
