"""Product import: a valid file creates exactly what it says; a file with bad rows reports
each (row, column, message) and writes nothing; importing again updates; 5,000 rows import
within the job with progress; pictures come by URL (through the safe fetcher, never the
network here) or from a zip."""

import io

import pytest
from django.core.files.base import ContentFile

from fenxiao.catalog.models import Category, Product, ProductImage, Sku
from fenxiao.catalog.services import product_import, product_import_files
from fenxiao.catalog.services import product_import_columns as spec
from fenxiao.core import safe_fetch
from fenxiao.core.models import Job, JobStatus
from fenxiao.shipping.models import ShippingTemplate
from fenxiao.testing import make_product, make_staff

from .import_files import csv_file, image_bytes, row, xlsx_file, zip_file

pytestmark = pytest.mark.django_db
PRODUCT_FIELDS = (
    "pk",
    "name",
    "subtitle",
    "category",
    "description",
    "is_listed",
    "price",
    "list_price",
    "weight_grams",
)
MEMORY = "django.core.files.storage.InMemoryStorage"


@pytest.fixture(autouse=True)
def storages(settings):
    settings.STORAGES = {**settings.STORAGES, "jobs": {"BACKEND": MEMORY}, "default": {"BACKEND": MEMORY}}


@pytest.fixture
def tshirts():
    clothes = Category.objects.create(name="服饰")
    women = Category.objects.create(name="女装", parent=clothes)
    return Category.objects.create(name="T恤", parent=women)


@pytest.fixture
def kitchen():
    return Category.objects.create(name="厨具")


@pytest.fixture
def staff():
    return make_staff(
        "importer", perms=["catalog.add_product", "catalog.change_product", "catalog.view_product"]
    )


class FakeImages:
    """Public hosts serving pictures; `broken` paths answer 404."""

    def __init__(self, monkeypatch):
        self.fetched = []
        monkeypatch.setattr(safe_fetch, "resolve", lambda host, port: ["93.184.216.34"])
        monkeypatch.setattr(safe_fetch, "send", self.send)

    def send(self, scheme, address, port, host, target, timeout):
        self.fetched.append(target)
        if "broken" in target:
            return safe_fetch.Response(404, {}, io.BytesIO(b""))
        return safe_fetch.Response(200, {"content-type": "image/png"}, io.BytesIO(image_bytes()))


@pytest.fixture
def web(monkeypatch):
    return FakeImages(monkeypatch)


def shirt_rows(price_white_m="59.90"):
    common = {"name": "纯棉T恤", "subtitle": "透气亲肤", "category": "服饰/女装/T恤", "listed": "是"}
    return [
        row(
            **common,
            spec1_name="颜色",
            spec1_value="白色",
            spec2_name="尺码",
            spec2_value="M",
            code="TS-W-M",
            price=price_white_m,
            list_price="89",
            stock="100",
            weight="200",
            description='<p>100%纯棉<script>alert(1)</script></p><img src="https://x.example/a.jpg" '
            'onerror="x()">',
        ),
        row(
            name="纯棉T恤",
            spec1_name="颜色",
            spec1_value="白色",
            spec2_name="尺码",
            spec2_value="L",
            code="TS-W-L",
            price="62",
            stock="0",
        ),
        row(
            name="马克杯",
            category="厨具",
            code="MUG-1",
            price="25.5",
            stock="30",
            listed="否",
            active="是",
        ),
    ]


def run_import(staff, data, filename="商品.xlsx", zip_data=None):
    job, plan = product_import.start(staff, data, filename, zip_data)
    assert not plan.errors, [e.as_dict() for e in plan.errors]
    product_import.confirm(job, staff)  # Huey runs at once in tests
    job.refresh_from_db()
    return job


def test_a_valid_file_creates_exactly_what_it_says(staff, tshirts, kitchen):
    data = xlsx_file(shirt_rows())
    plan = product_import.dry_run(data, "商品.xlsx")
    assert plan.errors == []
    assert plan.counts == {
        "rows": 3,
        "products_new": 2,
        "products_updated": 0,
        "skus_new": 3,
        "skus_updated": 0,
        "images_to_fetch": 0,
    }
    assert Product.objects.count() == 0  # the dry run wrote nothing

    job = run_import(staff, data)
    assert job.status == JobStatus.SUCCEEDED, (job.message, job.errors)
    assert (job.done, job.total) == (3, 3)
    assert job.summary["figures"] == [["新建商品", 2], ["更新商品", 0], ["新建SKU", 3], ["更新SKU", 0]]

    shirt = Product.objects.get(name="纯棉T恤")
    assert (shirt.subtitle, shirt.category, shirt.is_listed) == ("透气亲肤", tshirts, True)
    assert (shirt.price, shirt.list_price, shirt.weight_grams) == (5990, 8900, 200)  # the cheapest SKU
    assert "<script" not in shirt.description and "onerror" not in shirt.description
    assert "<p>100%纯棉" in shirt.description
    skus = {s.code: s for s in Sku.objects.filter(product=shirt)}
    assert list(skus["TS-W-M"].specs.items()) == [("颜色", "白色"), ("尺码", "M")]
    assert (skus["TS-W-M"].price, skus["TS-W-M"].stock, skus["TS-W-M"].list_price) == (5990, 100, 8900)
    assert (skus["TS-W-L"].price, skus["TS-W-L"].stock, skus["TS-W-L"].list_price) == (6200, 0, 0)
    mug = Product.objects.get(name="马克杯")
    assert (mug.category, mug.is_listed, mug.price) == (kitchen, False, 2550)
    assert Sku.objects.get(code="MUG-1").specs == {}
    assert Product.objects.count() == 2 and Sku.objects.count() == 3


def test_each_kind_of_bad_row_is_reported_and_nothing_is_written(staff, tshirts, web):
    make_product("已有商品", specs_list=[{}])
    rows = [
        row(name="A", category="服饰/男装", code="A-1", price="10", stock="1"),  # unknown category
        row(name="B", category="T恤", code="B-1", price="10", stock="-5"),  # negative stock
        row(name="C", category="T恤", code="C-1", price="12.345", stock="1"),  # 3 decimals
        row(name="D", category="T恤", code="D-1", price="abc", stock="1"),  # not a number
        row(name="E", category="T恤", code="E-1", price="50", list_price="40", stock="1"),  # list < price
        row(name="F", category="T恤", code="B-1", price="10", stock="1"),  # duplicate code
        row(name="G", category="T恤", code="G-1", price="10", stock="1", images="ftp://x.example/a.png"),
        row(name="H", category="T恤", code="", price="10", stock="1.5"),  # no code, stock not whole
        row(name="I", category="T恤", code="I-1", price="10", stock="1", listed="也许"),
    ]
    job, plan = product_import.start(staff, csv_file(rows), "商品.csv")
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (2, "分类", "分类“服饰/男装”不存在，请先在商品分类中创建"),
        (3, "库存", "库存不能为负数"),
        (4, "售价(元)", "售价最多两位小数：12.345"),
        (5, "售价(元)", "售价格式不对：abc（应为数字，如 59.90）"),
        (6, "划线价(元)", "划线价不能低于售价（不显示请留空或填0）"),
        (7, "SKU编码", "SKU编码“B-1”与第 3 行重复"),
        (8, "图片", "图片链接无效：ftp://x.example/a.png（应以 http:// 或 https:// 开头）"),
        (9, "SKU编码", "SKU编码必填"),
        (9, "库存", "库存应为整数：1.5"),
        (10, "上架", "请填“是”或“否”，不是“也许”"),
    ]
    with pytest.raises(product_import.CatalogInvalid):
        product_import.confirm(job, staff)
    assert Product.objects.count() == 1 and Sku.objects.count() == 1

    # An image URL that fails is found in the job, which then writes nothing.
    good = [
        row(name="J", category="T恤", code="J-1", price="10", stock="1", images="https://cdn.example/ok.png"),
        row(
            name="K",
            category="T恤",
            code="K-1",
            price="10",
            stock="1",
            images="https://cdn.example/broken.png",
        ),
    ]
    job, plan = product_import.start(staff, csv_file(good), "商品.csv")
    assert plan.errors == []
    product_import.confirm(job, staff)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors == [
        {
            "row": 3,
            "column": "图片",
            "message": "图片“https://cdn.example/broken.png”：图片下载失败（HTTP 404）",
        }
    ]
    assert "未导入任何数据" in job.message
    assert Product.objects.count() == 1 and ProductImage.objects.count() == 0


def test_product_level_cells_and_specs_must_agree_within_a_product(staff, tshirts):
    rows = [
        row(name="T", category="T恤", spec1_name="颜色", spec1_value="白", code="T-1", price="10", stock="1"),
        row(
            name="T", category="厨具", spec1_name="颜色", spec1_value="黑", code="T-2", price="10", stock="1"
        ),
        row(name="T", category="T恤", spec1_name="尺码", spec1_value="M", code="T-3", price="10", stock="1"),
        row(name="T", category="T恤", spec1_name="颜色", spec1_value="白", code="T-4", price="10", stock="1"),
        row(name="U", category="T恤", code="U-1", price="10", stock="1"),
        row(name="U", category="T恤", code="U-2", price="10", stock="1"),
        row(name="V", category="T恤", spec1_name="颜色", code="V-1", price="10", stock="1"),
    ]
    plan = product_import.dry_run(csv_file(rows), "a.csv")
    messages = [(e.row, e.column, e.message) for e in plan.errors]
    assert (3, "分类", "分类“厨具”不存在，请先在商品分类中创建") in messages
    assert (4, "规格1名", "同一商品各SKU的规格名称应一致（第 2 行为 颜色）") in messages
    assert (5, "规格1值", "规格组合与第 2 行重复") in messages
    assert (7, "规格1值", "同一商品有多个SKU时必须填写规格（与第 6 行）") in messages
    assert (8, "规格1值", "规格名和规格值要成对填写") in messages


def test_importing_again_updates_instead_of_duplicating(staff, tshirts, kitchen):
    first = run_import(staff, xlsx_file(shirt_rows()))
    assert first.status == JobStatus.SUCCEEDED
    ids = set(Sku.objects.values_list("pk", flat=True))
    again = shirt_rows(price_white_m="49.90")
    again.append(
        row(
            name="纯棉T恤",
            spec1_name="颜色",
            spec1_value="黑色",
            spec2_name="尺码",
            spec2_value="M",
            code="TS-B-M",
            price="59.90",
            stock="7",
        )
    )
    plan = product_import.dry_run(csv_file(again), "商品.csv")
    assert plan.counts["products_new"] == 0 and plan.counts["products_updated"] == 2
    assert (plan.counts["skus_new"], plan.counts["skus_updated"]) == (1, 3)
    second = run_import(staff, csv_file(again), "商品.csv")
    assert second.status == JobStatus.SUCCEEDED
    assert Product.objects.count() == 2 and Sku.objects.count() == 4
    assert ids < set(Sku.objects.values_list("pk", flat=True))
    shirt = Product.objects.get(name="纯棉T恤")
    assert Sku.objects.get(code="TS-W-M").price == 4990 and shirt.price == 4990
    assert Sku.objects.get(code="TS-B-M").product == shirt

    # The same file once more changes nothing.
    before = list(Sku.objects.order_by("pk").values())
    third = run_import(staff, csv_file(again), "商品.csv")
    assert third.summary["counts"]["skus_updated"] == 4
    assert list(Sku.objects.order_by("pk").values()) == before


def test_five_thousand_rows_import_within_the_job_with_progress(
    staff, tshirts, django_assert_max_num_queries
):
    rows = []
    for p in range(1000):
        for size in ("XS", "S", "M", "L", "XL"):
            rows.append(
                row(
                    name=f"商品{p:04d}",
                    category="服饰/女装/T恤",
                    spec1_name="尺码",
                    spec1_value=size,
                    code=f"P{p:04d}-{size}",
                    price=f"{10 + p % 50}.{p % 100:02d}",
                    stock=str(p % 7),
                    listed="是",
                )
            )
    data = csv_file(rows)
    reports = []
    original = product_import.jobs.JobRun.progress

    def spy(self, done, **kwargs):
        reports.append((done, kwargs.get("total", self.job.total), kwargs.get("stage")))
        return original(self, done, **kwargs)

    product_import.jobs.JobRun.progress = spy
    try:
        with django_assert_max_num_queries(250):  # set-based: grows by chunks, not by rows
            job = run_import(staff, data, "商品.csv")
    finally:
        product_import.jobs.JobRun.progress = original
    assert job.status == JobStatus.SUCCEEDED, (job.message, job.errors[:3])
    assert (job.done, job.total) == (5000, 5000)
    assert reports[0] == (0, 5000, "校验数据") and reports[-1][0] == 5000
    assert Product.objects.count() == 1000 and Sku.objects.count() == 5000
    assert Product.objects.get(name="商品0007").price == 1707


def test_pictures_by_url_and_from_a_zip_and_kept_on_reimport(staff, tshirts, web):
    pictures = zip_file({"photos/mug-1.png": image_bytes(), "notes.txt": b"hi", "fake.jpg": b"not an image"})
    rows = [
        row(
            name="杯",
            category="T恤",
            code="C-1",
            price="9",
            stock="1",
            images="mug-1.png|https://cdn.example/b.png",
        ),
    ]
    job = run_import(staff, csv_file(rows), "商品.csv", zip_data=pictures)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    cup = Product.objects.get(name="杯")
    images = list(cup.images.order_by("sort_order"))
    assert len(images) == 2 and web.fetched == ["/b.png"]
    assert all(i.image.storage.exists(i.image.name) for i in images)

    # An exported file names the product's own pictures by URL: kept, not downloaded again.
    urls = "|".join(f"http://shop.example{i.image.url}" for i in reversed(images))
    rows[0]["images"] = urls
    again = run_import(staff, csv_file(rows), "商品.csv")
    assert again.status == JobStatus.SUCCEEDED, again.errors
    assert web.fetched == ["/b.png"]
    assert list(cup.images.order_by("sort_order").values_list("pk", flat=True)) == [
        i.pk for i in reversed(images)
    ]

    # Zip problems are row errors in the dry run.
    bad = [row(name="杯2", category="T恤", code="C-2", price="9", stock="1", images="missing.png|fake.jpg")]
    plan = product_import.dry_run(csv_file(bad), "a.csv", pictures)
    assert [e.message for e in plan.errors] == [
        "压缩包中没有图片“missing.png”",
        "图片“fake.jpg”：不是有效的图片文件（只支持 JPG、PNG、WebP、GIF）",
    ]
    plan = product_import.dry_run(csv_file(bad), "a.csv")
    assert plan.errors[0].message.startswith("未上传图片压缩包")


def test_unreadable_files_are_refused_with_a_reason(tshirts):
    with pytest.raises(product_import.ImportFileInvalid, match="只支持 .xlsx 或 .csv"):
        product_import.dry_run(b"x", "a.txt")
    with pytest.raises(product_import.ImportFileInvalid, match="Excel 文件无法打开"):
        product_import.dry_run(b"not a zip", "a.xlsx")
    with pytest.raises(product_import.ImportFileInvalid, match="缺少必填列：SKU编码"):
        product_import.dry_run("商品名称,分类,售价(元),库存\nA,T恤,1,1\n".encode(), "a.csv")
    with pytest.raises(product_import.ImportFileInvalid, match="没有商品数据"):
        product_import.dry_run(csv_file([]), "a.csv")
    with pytest.raises(product_import.ImportFileInvalid, match="压缩包无法打开"):
        product_import.dry_run(csv_file([row(name="A")]), "a.csv", b"not a zip")


def test_a_gbk_csv_from_excel_reads_too(tshirts):
    rows = [row(name="毛巾", category="T恤", code="T-1", price="5", stock="1")]
    plan = product_import.dry_run(csv_file(rows, encoding="gb18030"), "a.csv")
    assert plan.errors == [] and plan.products[0].name == "毛巾"


def test_a_zip_bomb_is_refused(tshirts, monkeypatch):
    monkeypatch.setattr(product_import_files, "MAX_ZIP_TOTAL", 1000)
    bomb = zip_file({"big.png": b"\0" * 5000})
    with pytest.raises(product_import.ImportFileInvalid, match="解压后过大"):
        product_import.dry_run(csv_file([row(name="A")]), "a.csv", bomb)


def test_the_template_reads_back_as_an_empty_import_and_names_every_column():
    from openpyxl import load_workbook

    _, data, _ = product_import.template_file("xlsx")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["商品", "填写说明", "示例"]
    headers = [c.value for c in book["商品"][1]]
    assert headers[0] == "商品名称*" and "SKU编码*" in headers and "规格1名" in headers
    with pytest.raises(product_import.ImportFileInvalid, match="没有商品数据"):
        product_import.dry_run(data, "模板.xlsx")
    _, data, _ = product_import.template_file("csv")
    assert data.startswith("\ufeff".encode()) and "商品名称*" in data.decode("utf-8-sig")
    assert Job.objects.count() == 0


# --- the backend pages ---------------------------------------------------------------------------


def backend(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_backend_flow_upload_check_confirm_and_see_it_done(staff, tshirts, kitchen):
    client = backend(staff)
    listing = client.get("/backend/catalog/product/").content.decode()
    assert "导入商品" in listing and "/backend/catalog/product/import/" in listing

    page = client.get("/backend/catalog/product/import/")
    assert page.status_code == 200 and "下载 Excel 模板" in page.content.decode()
    template = client.get("/backend/catalog/product/import/template.xlsx")
    assert template.status_code == 200 and "attachment" in template["Content-Disposition"]
    assert client.get("/backend/catalog/product/import/template.csv").status_code == 200

    upload = io.BytesIO(xlsx_file(shirt_rows()))
    upload.name = "商品.xlsx"
    checked = client.post("/backend/catalog/product/import/", {"file": upload})
    assert checked.status_code == 302
    job = Job.objects.get()
    text = client.get(checked["Location"]).content.decode()
    assert "检查通过" in text and 'data-count="products_new">2<' in text and "确认导入" in text
    assert Product.objects.count() == 0

    done = client.post(f"/backend/catalog/product/import/{job.pk}/confirm/")
    assert done.status_code == 302
    text = client.get(done["Location"]).content.decode()
    assert "已完成" in text and "新建商品" in text and "查看商品" in text
    assert Product.objects.count() == 2
    # A second confirm (a double click) imports nothing more.
    client.post(f"/backend/catalog/product/import/{job.pk}/confirm/")
    assert Product.objects.count() == 2 and Sku.objects.count() == 3


def test_the_backend_shows_row_errors_and_offers_no_confirm(staff, tshirts):
    client = backend(staff)
    upload = io.BytesIO(csv_file([row(name="A", category="不存在", code="A-1", price="1.234", stock="1")]))
    upload.name = "坏.csv"
    checked = client.post("/backend/catalog/product/import/", {"file": upload})
    text = client.get(checked["Location"]).content.decode()
    assert "共 2 处错误" in text and "第 2 行" in text and "售价最多两位小数：1.234" in text
    assert "确认导入" not in text
    job = Job.objects.get()
    client.post(f"/backend/catalog/product/import/{job.pk}/confirm/")
    assert Job.objects.get().status == JobStatus.DRAFT and Product.objects.count() == 0

    wrong = io.BytesIO(b"hello")
    wrong.name = "a.txt"
    answer = client.post("/backend/catalog/product/import/", {"file": wrong})
    assert answer.status_code == 400 and "只支持 .xlsx 或 .csv 文件" in answer.content.decode()
    unreadable = io.BytesIO(b"not a workbook")
    unreadable.name = "a.xlsx"
    answer = client.post("/backend/catalog/product/import/", {"file": unreadable})
    assert answer.status_code == 400 and "Excel 文件无法打开" in answer.content.decode()


def test_staff_who_may_not_add_products_cannot_import():
    viewer = make_staff("viewer", perms=["catalog.view_product"])
    client = backend(viewer)
    assert client.get("/backend/catalog/product/import/").status_code == 403
    assert client.get("/backend/catalog/product/import/template.xlsx").status_code == 403
    assert "导入商品" not in client.get("/backend/catalog/product/").content.decode()


def test_rows_written_with_the_column_spec_import_back_unchanged(staff, tshirts, web):
    """The exports helper owns the full export round trip; this checks the import's half:
    rows made by `export_row` (through the CSV writer, formula guard included) change
    nothing, even for two products sharing a name, an inactive SKU and pictures."""
    from django.core.files.base import ContentFile

    from fenxiao.catalog.services import product_import_columns as spec
    from fenxiao.catalog.services.products import refresh_summary
    from fenxiao.core import tabular

    first = make_product(
        "同名商品", category=tshirts, specs_list=[{"颜色": "红"}, {"颜色": "蓝"}], list_price=12000
    )
    second = make_product("同名商品", category=tshirts, price=5000)
    Product.objects.filter(pk=first.pk).update(subtitle="-50%限时", description="<p>好<b>货</b></p>")
    Sku.objects.filter(product=second).update(is_active=False)
    Product.objects.filter(pk=second.pk).update(is_listed=False)
    refresh_summary([second.pk])  # as the backend does when a SKU is switched off
    ProductImage.objects.create(product=first, image=ContentFile(image_bytes(), name="a.png"), sort_order=0)
    blue = ProductImage.objects.create(
        product=first, image=ContentFile(image_bytes(), name="b.png"), sort_order=1
    )
    Sku.objects.filter(product=first, specs={"颜色": "蓝"}).update(image=blue)  # its 规格图

    def snapshot():
        return (
            list(Product.objects.order_by("pk").values(*PRODUCT_FIELDS)),
            list(Sku.objects.order_by("pk").values()),
            list(ProductImage.objects.order_by("pk").values()),
        )

    before = snapshot()
    paths = spec.category_paths()
    rows = []
    for sku in Sku.objects.select_related("product").order_by("product_id", "pk"):
        urls = {
            i.pk: f"http://testserver{i.image.url}" for i in sku.product.images.order_by("sort_order", "pk")
        }
        rows.append(
            spec.export_row(
                sku,
                category_path=paths[sku.product.category_id],
                image_urls=list(urls.values()),
                sku_image_url=urls.get(sku.image_id, ""),
            )
        )
    data = tabular.csv_response("x.csv", spec.HEADERS, rows).content
    assert "'-50%限时" in data.decode("utf-8-sig")  # the formula guard was applied
    plan = product_import.dry_run(data, "export.csv")
    assert plan.errors == []
    assert (plan.counts["products_new"], plan.counts["products_updated"], plan.counts["skus_new"]) == (
        0,
        2,
        0,
    )
    job = run_import(staff, data, "export.csv")
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert snapshot() == before and web.fetched == []


def test_an_import_whose_worker_died_is_run_again_once(staff, tshirts, kitchen, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from fenxiao.core import jobs

    monkeypatch.setattr(jobs, "_enqueue_on_commit", lambda job_id: None)  # the queue entry is lost
    job, _ = product_import.start(staff, xlsx_file(shirt_rows()), "商品.xlsx")
    product_import.confirm(job, staff)
    # The worker claimed it and was killed in the write: its transaction rolled back.
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    monkeypatch.undo()
    assert jobs.sweep() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    assert Product.objects.count() == 2 and Sku.objects.count() == 3
    assert jobs.sweep() == 0 and Product.objects.count() == 2


def test_a_sku_code_taken_meanwhile_fails_the_whole_import(staff, tshirts, kitchen, monkeypatch):
    job, plan = product_import.start(staff, xlsx_file(shirt_rows()), "商品.xlsx")
    original = product_import.write

    def someone_else_first(plan):
        # Another import created one of the codes after this one was planned.
        Sku.objects.create(product=make_product("别人的"), code="MUG-1", price=100, stock=1)
        return original(plan)

    monkeypatch.setattr(product_import, "write", someone_else_first)
    product_import.confirm(job, staff)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "其他人修改了相同的SKU编码" in job.message
    assert not Product.objects.filter(name__in=["纯棉T恤", "马克杯"]).exists()


def test_the_fee_template_is_named_kept_when_empty_and_reset_to_the_shop_fee(staff, tshirts, kitchen):
    parcel = ShippingTemplate.objects.create(name="普通快递", first_fee=800)
    rows = shirt_rows()
    rows[0]["shipping_template"] = "普通快递"
    rows[2]["shipping_template"] = "顺丰包邮"
    plan = product_import.dry_run(csv_file(rows), "商品.csv")
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (4, "运费模板", "运费模板“顺丰包邮”不存在，请先在运费模板中创建，或填 默认运费")
    ]
    rows[2]["shipping_template"] = ""
    assert run_import(staff, csv_file(rows), "商品.csv").status == JobStatus.SUCCEEDED
    assert Product.objects.get(name="纯棉T恤").shipping_template == parcel
    assert Product.objects.get(name="马克杯").shipping_template is None

    rows[0]["shipping_template"] = ""  # empty: the product keeps its template
    run_import(staff, csv_file(rows), "商品.csv")
    assert Product.objects.get(name="纯棉T恤").shipping_template == parcel
    rows[0]["shipping_template"] = "默认运费"
    run_import(staff, csv_file(rows), "商品.csv")
    assert Product.objects.get(name="纯棉T恤").shipping_template is None


def test_each_skus_picture_is_one_of_its_products_pictures(staff, tshirts, web):
    """规格图: a new product names it among its 图片 (zip or URL, as written there); an
    existing product with 图片 left empty names one of its own pictures by URL; anything
    else is a row error; a file without the column leaves every 规格图 as it is."""
    common = {"name": "衬衫", "category": "T恤", "price": "99", "stock": "5", "spec1_name": "颜色"}
    rows = [
        row(
            **common,
            spec1_value="白",
            code="SH-W",
            images="cover.png|white.png|blue.png",
            sku_image="white.png",
        ),
        row(**common, spec1_value="蓝", code="SH-B", sku_image="blue.png"),
        row(**common, spec1_value="灰", code="SH-G"),
    ]
    pictures = zip_file({"cover.png": image_bytes(), "white.png": image_bytes(), "blue.png": image_bytes()})
    job = run_import(staff, csv_file(rows), "商品.csv", zip_data=pictures)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    shirt = Product.objects.get(name="衬衫")
    cover, white, blue = shirt.images.order_by("sort_order")
    chosen = dict(shirt.skus.values_list("code", "image"))
    assert chosen == {"SH-W": white.pk, "SH-B": blue.pk, "SH-G": None}

    # Again with 图片 empty: 规格图 by the URL of one of the product's pictures (as exported).
    for r in rows:
        r.pop("images", None)
    rows[0]["sku_image"] = f"http://testserver{blue.image.url}"
    rows[1]["sku_image"] = ""
    rows[2]["sku_image"] = f"http://testserver{cover.image.url}"
    job = run_import(staff, csv_file(rows), "商品.csv")
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert dict(shirt.skus.values_list("code", "image")) == {"SH-W": blue.pk, "SH-B": None, "SH-G": cover.pk}

    # Not one of the product's pictures: a row error, nothing written. Once the file gives
    # 图片, a 规格图 must be among them (SH-G's cover is not).
    other = make_product("别的商品", category=tshirts)
    foreign = ProductImage.objects.create(product=other, image=ContentFile(image_bytes(), name="f.png"))
    rows[0]["sku_image"] = f"http://testserver{foreign.image.url}"
    rows[1].update(images="https://cdn.example/x.png", sku_image="y.png")
    plan = product_import.dry_run(csv_file(rows), "a.csv")
    assert [(e.row, e.column) for e in plan.errors] == [(2, "规格图"), (3, "规格图"), (4, "规格图")]
    assert "规格图须是本商品“图片”中的一张" in plan.errors[0].message

    # A file made before the column existed keeps what each SKU shows.
    old_columns = [c for c in spec.COLUMNS if c.key != "sku_image"]
    data = "\n".join(
        ",".join(values)
        for values in [
            [spec.header_text(c) for c in old_columns],
            *([str(r.get(c.key, "")) for c in old_columns] for r in rows[2:]),
        ]
    ).encode()
    job = run_import(staff, data, "old.csv")
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert shirt.skus.get(code="SH-G").image_id == cover.pk


def test_a_refused_sku_row_is_not_blamed_on_the_listing_cell(staff, tshirts):
    """A product to list whose only SKU row is refused (stock -3) shows that row's error
    alone; 没有可售的SKU，不能上架 stays for a product whose SKUs are all 不可售."""
    rows = [
        row(name="帆布包", category="T恤", code="BAG-1", price="39", stock="-3", listed="是"),
        row(name="停售款", category="T恤", code="OFF-1", price="39", stock="3", listed="是", active="否"),
    ]
    _job, plan = product_import.start(staff, csv_file(rows), "商品.csv")
    assert [(e.row, e.column, e.message) for e in plan.errors] == [
        (2, "库存", "库存不能为负数"),
        (3, "上架", "没有可售的SKU，不能上架"),
    ]
