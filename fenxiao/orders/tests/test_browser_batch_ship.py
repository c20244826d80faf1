"""运营 in a real browser (1280 px) ships by file: the order list with its tabs, the 批量发货
button, the upload, the preview with a bad row, the confirmation, and the shipped orders
under 已发货."""

import pytest

from fenxiao.orders.models import Order

from .backend import make_order, pay
from .test_admin_batch_ship import xlsx

pytestmark = pytest.mark.browser


def test_operations_ships_orders_by_uploading_a_file(operations_desk, transactional_db, tmp_path):
    first, second, third = (pay(make_order(prices=(5900, 3900))) for _ in range(3))
    make_order()  # one unpaid order, for the tabs
    path = tmp_path / "发货.xlsx"
    path.write_bytes(
        xlsx(
            [
                [first.number, "顺丰", "SF1234567890"],
                [second.number, "中通", "ZT7788990011"],
                [third.number, "火星快递", "HX000001"],
            ]
        )
    )
    desk = operations_desk
    desk.name = "orders"
    page = desk.page

    page.goto("/backend/orders/order/")
    tabs = page.locator("#order-tabs")
    assert "待发货" in tabs.inner_text() and "售后中" in tabs.inner_text()
    assert tabs.locator('[data-tab="pending_shipment"]').inner_text().split()[-1] == "3"
    page.get_by_text("¥98.00").first.wait_for()
    page.screenshot(path="/tmp/ops-order-list.png", full_page=True)

    page.get_by_role("link", name="批量发货").click()
    page.get_by_text("发货规则：逐单发货").wait_for()
    page.screenshot(path="/tmp/ops-batch-ship-upload.png", full_page=True)
    page.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_role("button", name="上传并核对").click()
    page.get_by_text("可发货 2 单").wait_for()
    errors = page.locator("#batch-ship-errors")
    assert "第 4 行" in errors.inner_text() and "无法识别的物流公司“火星快递”" in errors.inner_text()
    page.screenshot(path="/tmp/ops-batch-ship-preview.png", full_page=True)
    desk.shot("batch-ship-preview")

    page.get_by_role("button", name="确认发货 2 单").click()
    page.locator("#batch-ship-shipped").get_by_text("已发货 2 单").wait_for()
    page.screenshot(path="/tmp/ops-batch-ship-done.png", full_page=True)
    assert Order.objects.get(pk=first.pk).tracking_number == "SF1234567890"
    assert Order.objects.get(pk=third.pk).status == "pending_shipment"

    page.get_by_role("link", name="查看已发货订单").click()
    page.wait_for_url("**tab=shipped**")
    body = page.locator("#result_list").inner_text()
    assert first.number in body and second.number in body and third.number not in body
    page.screenshot(path="/tmp/ops-order-list-shipped.png", full_page=True)

    # The packing slips of the shipped orders, from the list's action.
    page.locator("#result_list tbody input[type=checkbox]").first.check()
    page.locator("select[name=action]").select_option("print_packing_list")
    page.get_by_role("button", name="运行").or_(page.locator("button[name=index]")).first.click()
    page.get_by_text("拣货单").first.wait_for()
    assert page.locator(".packing-slip").count() == 1
    page.screenshot(path="/tmp/ops-packing-list.png", full_page=True)
