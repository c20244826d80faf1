"""导出 in a real browser (1280 px): the order list's 导出 menu downloads the filtered list
as Excel at once; a large list becomes a job whose progress finishes in the 任务中心 with
a download link."""

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fenxiao.core import jobs
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.models import Job
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.testing import make_buyer, make_product

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(operations_desk, settings, tmp_path):
    operations_desk.name = "exports"
    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return operations_desk


def test_export_the_filtered_orders_then_a_large_list_as_a_job(desk, transactional_db, monkeypatch):
    lamp = make_product("台灯", price=12345)
    paid = buy(make_buyer("13812345678"), (sku(lamp), 2))
    buy(make_buyer(), (sku(lamp), 1))
    page = desk.page

    page.goto(f"/backend/orders/order/?q={paid.number}")
    desk.shot("list")
    page.locator("#list-export").click()
    desk.shot("menu")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    values = list(sheet.values)
    assert [v[0] for v in values[1:]] == [paid.number]
    row = dict(zip(values[0], values[1], strict=True))
    assert row["买家手机号"] == "13812345678" and row["商品实付（元）"] == 246.9

    # A large list: the worker is held back, so the job page shows it waiting, then polls.
    monkeypatch.setattr(ExportMixin, "export_direct_limit", 0)
    queued = []
    monkeypatch.setattr(jobs, "_enqueue_on_commit", queued.append)
    page.goto("/backend/orders/order/")
    page.locator("#list-export").click()
    page.get_by_role("link", name="导出 CSV").click()
    page.wait_for_url("**/backend/core/job/*/change/")
    page.get_by_text("导出任务“导出订单（CSV）”已开始").wait_for()
    job = Job.objects.get()
    assert queued == [job.pk]
    jobs.run_job(job.pk)
    page.locator('.job-progress[data-status="succeeded"]').wait_for(timeout=10_000)
    desk.shot("job-done")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载").first.click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert text.count("\n") == 3 and paid.number in text
