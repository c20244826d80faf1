"""The merchant imports a product file in a real browser (1280 px): template download,
upload, the dry run's counts, confirm, and the progress bar polling (htmx, every second)
until the job is done; then the products are on the list."""

import pytest

from fenxiao.catalog.models import Category, Product, Sku
from fenxiao.core import jobs
from fenxiao.core.models import Job, JobStatus

from .import_files import row, xlsx_file

pytestmark = pytest.mark.browser


@pytest.fixture
def merchant(operations_desk, settings, tmp_path):
    operations_desk.name = "import"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return operations_desk


def test_import_a_product_file_and_watch_the_progress_finish(
    merchant, transactional_db, tmp_path, monkeypatch
):
    Category.objects.create(name="厨具")
    rows = [
        row(
            name=f"浏览器导入商品{i}",
            category="厨具",
            spec1_name="颜色",
            spec1_value=colour,
            code=f"BR-{i}-{colour}",
            price=f"{19 + i}.90",
            stock="8",
            listed="是",
        )
        for i in range(3)
        for colour in ("红", "蓝")
    ]
    upload = tmp_path / "商品导入.xlsx"
    upload.write_bytes(xlsx_file(rows))
    # The queue holds the job (as a real worker would pick it up later), so the page must
    # show it waiting and then follow its progress by polling.
    queued = []
    monkeypatch.setattr(jobs, "_enqueue_on_commit", queued.append)
    page = merchant.page

    page.goto("/backend/catalog/product/")
    page.get_by_role("link", name="导入商品").click()
    page.wait_for_url("**/backend/catalog/product/import/")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel 模板").click()
    assert download.value.suggested_filename == "商品导入模板.xlsx"
    # A file with mistakes first: every one is listed, nothing can be confirmed.
    bad = tmp_path / "有错误.xlsx"
    bad.write_bytes(
        xlsx_file(
            [
                row(name="错误商品", category="不存在的分类", code="BAD-1", price="9.999", stock="-1"),
                row(name="错误商品2", category="厨具", code="BAD-1", price="10", list_price="5", stock="1"),
            ]
        )
    )
    page.locator("#id_file").set_input_files(str(bad))
    page.get_by_role("button", name="上传并检查").click()
    page.get_by_text("共 5 处错误").wait_for()
    assert page.get_by_role("button", name="确认导入").count() == 0
    merchant.shot("dry-run-errors")
    page.get_by_role("link", name="重新上传").click()

    page.locator("#id_file").set_input_files(str(upload))
    merchant.shot("upload")
    page.get_by_role("button", name="上传并检查").click()
    page.get_by_text("检查通过").wait_for()
    assert page.locator('[data-count="products_new"]').inner_text() == "3"
    assert page.locator('[data-count="skus_new"]').inner_text() == "6"
    merchant.shot("dry-run")

    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("排队中，等待开始").wait_for()
    job = Job.objects.exclude(status=JobStatus.DRAFT).get()
    assert queued == [job.pk] and job.status == JobStatus.PENDING
    merchant.shot("queued")
    jobs.run_job(job.pk)  # the worker runs it; the page is polling meanwhile
    page.locator('.job-progress[data-status="succeeded"]').wait_for(timeout=10_000)
    page.get_by_text("已完成，共 6 条").wait_for()
    assert page.locator('[role="progressbar"]').get_attribute("aria-valuenow") == "100"
    merchant.shot("done")
    assert Product.objects.count() == 3 and Sku.objects.count() == 6

    page.get_by_role("link", name="查看商品").click()
    page.get_by_text("浏览器导入商品2").wait_for()
    page.get_by_text("¥19.90").first.wait_for()
    merchant.shot("product-list")

    page.goto("/backend/core/job/")
    page.get_by_text("导入商品：商品导入.xlsx").wait_for()
    merchant.shot("job-center")
