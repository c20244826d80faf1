"""A store's page at 1280 px: its buttons (门店库存, 门店码, 会员, 销售, 添加员工) leave the
breadcrumb whole; with the longer 门店码与导购 · 门店会员 · 门店销售 it was cut to 门.. › 门.. ›
杭州..."""

import pytest

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
