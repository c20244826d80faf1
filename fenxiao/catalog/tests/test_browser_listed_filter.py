"""The 库存预警 list in a real browser (1280 px): the filter panel shows 上架状态 已上架 chosen
next to 库存低于; changing the threshold and applying keeps 已上架, and 清除所有筛选 clears
both, bringing the 仓库中 product back."""

import pytest

from fenxiao.testing import make_product

pytestmark = pytest.mark.browser

WARNING = "/backend/catalog/product/?is_listed__exact=1&stock_below=10"


def test_the_stock_warning_list_shows_keeps_and_clears_listed(operations_desk, transactional_db):
    make_product("在售低库存", stock=3)
    make_product("仓库低库存", stock=2, listed=False)
    page = operations_desk.page
    page.goto(WARNING)
    rows = page.locator("#result_list")
    assert "在售低库存" in rows.inner_text() and "仓库低库存" not in rows.inner_text()

    page.locator("a[x-on\\:click='filterOpen = true']").click()
    panel = page.locator("#changelist-filter")
    assert panel.get_by_text("以 上架状态").is_visible()
    chosen = panel.locator("li.font-semibold")
    assert "已上架" in chosen.all_inner_texts()
    operations_desk.shot("stock-warning-filters")

    panel.locator("input[name=stock_below]").fill("5")
    panel.get_by_role("button", name="应用筛选").click()
    page.wait_for_url("**stock_below=5**")
    assert "is_listed__exact=1" in page.url

    page.locator("a[x-on\\:click='filterOpen = true']").click()
    panel.get_by_role("link", name="清除所有筛选").click()
    page.wait_for_load_state()
    assert "is_listed__exact" not in page.url and "stock_below" not in page.url
    assert "仓库低库存" in page.locator("#result_list").inner_text()
