"""导出 of the order, after-sale and commission lists: what each file says (headers, amounts
exact to the fen, attribution and commission per line and level, masked phones), that the
filtered list exports only its rows, and that reading costs a fixed number of queries."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from fenxiao.customers.tests.crm import finance, operations
from fenxiao.distribution.models import Commission
from fenxiao.distribution.services.exports import COMMISSION_HEADERS, COMMISSIONS
from fenxiao.distribution.tests.helpers import bound_buyer, buy, line, make_distributor, sku, staff_refund
from fenxiao.orders.models import AfterSale, Order
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.orders.services.exports import AFTER_SALE_HEADERS, AFTER_SALES, ORDER_HEADERS, ORDERS
from fenxiao.orders.tests.backend import set_return_address
from fenxiao.testing import login, make_buyer, make_product, make_staff

pytestmark = pytest.mark.django_db

# Defaults: level 1 = 10 %, level 2 = 5 %.


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    # As a spreadsheet shows them: a leading tab keeps long digits (order numbers) as text.
    rows = [[cell.removeprefix("\t") for cell in row] for row in rows]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]], rows[0]


def read_xlsx(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    return [dict(zip(values[0], v, strict=True)) for v in values[1:]], sheet


def export_url(model: str, fmt: str) -> str:
    return reverse(f"admin:{model}_export", args=[fmt])


@pytest.fixture
def shop():
    """An order by a buyer bound to 乙 (under 甲): 3 × 杯子 at ¥33.33 and 2 × 袜子 at ¥15,
    shipped, then one 杯子 refunded; and an order by someone else, unattributed."""
    a = make_distributor()
    a.real_name = "甲"
    a.save()
    b = make_distributor(parent=a)
    b.real_name = "乙"
    b.save()
    buyer = bound_buyer(b)
    buyer.phone = "13812345678"
    buyer.nickname = "小王"
    buyer.save()
    cup, socks = make_product("杯子", price=3333), make_product("袜子", price=1500)
    order = buy(buyer, (sku(cup), 3), (sku(socks), 2))
    lifecycle.ship(order, make_staff("boss", superuser=True), carrier="shunfeng", tracking_number="SF1001")
    staff_refund(order, {"line_id": line(order).pk, "quantity": 1})
    order.refresh_from_db()
    other = buy(make_buyer(), (sku(make_product("台灯", price=10000)), 1))
    return {"a": a, "b": b, "buyer": buyer, "order": order, "other": other, "cup": cup}


def test_orders_one_row_per_line_with_attribution_and_commission_per_level(shop):
    order = shop["order"]
    rows, headers = read_csv(operations().get(export_url("orders_order", "csv"), {"q": order.number}))
    assert headers == ORDER_HEADERS
    assert [r["订单号"] for r in rows] == [order.number, order.number]  # the searched order only
    cup, socks = rows
    assert (cup["商品名称"], cup["SKU编码"], cup["数量"]) == ("杯子", line(order).sku_code, "3")
    assert (cup["单价（元）"], cup["商品小计（元）"], cup["商品实付（元）"]) == ("33.33", "99.99", "99.99")
    assert (cup["商品已退款（元）"], cup["商品已退数量"]) == ("33.33", "1")
    assert (socks["单价（元）"], socks["数量"], socks["商品实付（元）"]) == ("15.00", "2", "30.00")
    # The order's own figures are repeated on each of its lines.
    for r in rows:
        assert r["订单状态"] == "已发货"
        assert (r["订单商品金额（元）"], r["订单应付（元）"], r["订单实付（元）"]) == (
            "129.99",
            "129.99",
            "129.99",
        )
        assert r["订单已退款（元）"] == "33.33"
        assert (r["配送方式"], r["物流公司"], r["运单号"]) == ("快递配送", "顺丰速运", "SF1001")
        assert r["自提时间"] == ""
        assert (r["买家昵称"], r["买家手机号"], r["收货人"]) == ("小王", "13812345678", "张三")
        assert (r["省"], r["市"], r["区/县"], r["详细地址"]) == (
            "浙江省",
            "杭州市",
            "西湖区",
            "文三路 100 号",
        )
        assert r["一级分销商"] == f"乙（{shop['b'].referral_code}）"
        assert r["二级分销商"] == f"甲（{shop['a'].referral_code}）"
        assert r["三级分销商"] == "" and r["三级佣金（元）"] == ""
    # 99.99 paid: level 1 999 → 666 after the refund of one of three; level 2 499 → 332.
    assert (cup["一级佣金（元）"], cup["二级佣金（元）"]) == ("6.66", "3.32")
    assert (socks["一级佣金（元）"], socks["二级佣金（元）"]) == ("3.00", "1.50")
    totals = {(c.order_line_id, c.level): c.net_amount for c in Commission.objects.filter(order=order)}
    assert sum(totals.values()) == 666 + 332 + 300 + 150


def test_orders_excel_has_exact_amounts_and_masked_phones_for_finance(shop):
    order = shop["order"]
    rows, sheet = read_xlsx(finance().get(export_url("orders_order", "xlsx"), {"q": order.number}))
    cup = rows[0]
    assert cup["买家手机号"] == "138****5678" and cup["收货人手机号"] == "138****8000"
    assert Decimal(str(cup["商品实付（元）"])) == Decimal("99.99")
    assert Decimal(str(cup["一级佣金（元）"])) == Decimal("6.66")
    column = list(sheet[1]).index(next(c for c in sheet[1] if c.value == "一级佣金（元）")) + 1
    assert sheet.cell(row=2, column=column).number_format == "0.00"
    assert sheet.cell(row=2, column=column).data_type == "n"  # a number, summable


def test_the_filtered_list_exports_only_its_rows(shop):
    client = operations()
    rows, _ = read_csv(client.get(export_url("orders_order", "csv"), {"status__exact": "pending_shipment"}))
    assert {r["订单号"] for r in rows} == {shop["other"].number}
    rows, _ = read_csv(client.get(export_url("orders_order", "csv")))
    assert {r["订单号"] for r in rows} == {shop["order"].number, shop["other"].number}
    # The list's 导出 menu carries its filters.
    page = client.get(reverse("admin:orders_order_changelist"), {"status__exact": "shipped"}).content.decode()
    assert 'id="list-export"' in page and "export/xlsx/?status__exact=shipped" in page
    # A filter the list does not know is refused politely, not exported unfiltered.
    reply = client.get(export_url("orders_order", "csv"), {"bogus__field": "1"})
    assert reply.status_code == 302
    assert client.get(export_url("orders_order", "pdf")).status_code == 404


def test_rows_ticked_on_the_page_export_only_those(shop):
    reply = operations().post(
        reverse("admin:orders_order_changelist"),
        {"action": "export_selected_csv", "index": "0", "_selected_action": [str(shop["other"].pk)]},
    )
    rows, _ = read_csv(reply)
    assert [r["订单号"] for r in rows] == [shop["other"].number]


def test_personal_data_only_for_staff_who_may_see_the_list(shop):
    nobody = login(make_staff("clerk"))
    for model in ("orders_order", "orders_aftersale", "customers_customer", "distribution_commission"):
        assert nobody.get(export_url(model, "csv")).status_code == 403
    viewer = login(make_staff("viewer", perms=["orders.view_order"]))
    rows, _ = read_csv(viewer.get(export_url("orders_order", "csv"), {"q": shop["order"].number}))
    assert rows[0]["买家手机号"] == "138****5678"
    assert viewer.get(export_url("customers_customer", "csv")).status_code == 403


def test_after_sales(shop):
    order = shop["order"]
    after_sale = AfterSale.objects.get(order=order)
    rows, headers = read_csv(operations().get(export_url("orders_aftersale", "csv")))
    assert headers == AFTER_SALE_HEADERS
    assert len(rows) == 1
    r = rows[0]
    assert (r["售后单号"], r["订单号"], r["售后类型"], r["售后状态"]) == (
        after_sale.number,
        order.number,
        "仅退款",
        "已退款",
    )
    assert (r["退款金额（元）"], r["其中退运费（元）"], r["售后商品"]) == ("33.33", "0.00", "杯子 ×1")
    assert r["买家手机号"] == "13812345678"
    rows, _ = read_csv(
        operations().get(export_url("orders_aftersale", "csv"), {"status__exact": "requested"})
    )
    assert rows == []


def test_a_return_exports_its_reason_and_the_parcel_sent_back(shop):
    set_return_address()
    order, boss = shop["order"], make_staff("returns-desk", superuser=True)
    socks = order.lines.get(product_name="袜子")
    sale = after_sales.request_after_sale(
        order,
        shop["buyer"],
        kind="return_refund",
        reason_code="quality",
        reason="",
        description="袜子起球",
        lines=[{"line_id": socks.pk, "quantity": 1}],
    )
    sale = after_sales.approve(sale, boss)
    sale = after_sales.ship_back(sale, shop["buyer"], carrier="中通", tracking_number="ZT5566")
    rows, _ = read_csv(operations().get(export_url("orders_aftersale", "csv"), {"q": sale.number}))
    r = next(r for r in rows if r["售后单号"] == sale.number)
    assert (r["售后类型"], r["售后状态"], r["退款原因"], r["问题描述"]) == (
        "退货退款",
        "待商家收货",
        "商品质量问题",
        "袜子起球",
    )
    assert (r["退货物流"], r["退货运单号"], r["商家收货时间"]) == ("中通快递", "ZT5566", "")
    assert r["买家寄回时间"]


def test_commissions(shop):
    order = shop["order"]
    rows, headers = read_csv(
        operations().get(export_url("distribution_commission", "csv"), {"order": order.number})
    )
    assert headers == COMMISSION_HEADERS
    assert len(rows) == 4 and {r["订单号"] for r in rows} == {order.number}
    cup1 = next(r for r in rows if r["商品名称"] == "杯子" and r["层级"] == "1")
    assert (cup1["分销商"], cup1["推广码"]) == ("乙", shop["b"].referral_code)
    assert (cup1["计佣金额（元）"], cup1["数量"], cup1["计算方式"], cup1["比例（%）"]) == (
        "99.99",
        "3",
        "按比例",
        "10.00",
    )
    assert (cup1["佣金（元）"], cup1["已冲减（元）"], cup1["实得佣金（元）"]) == ("9.99", "3.33", "6.66")
    cup2 = next(r for r in rows if r["商品名称"] == "杯子" and r["层级"] == "2")
    assert (cup2["分销商"], cup2["实得佣金（元）"]) == ("甲", "3.32")


def queries(export, queryset, user) -> int:
    with CaptureQueriesContext(connection) as captured:
        rows = list(export.rows(queryset, user))
    assert rows
    return len(captured.captured_queries)


def test_reading_costs_the_same_queries_for_one_row_or_many(shop):
    boss = make_staff("boss", superuser=True)
    first = {
        "orders": queries(ORDERS, Order.objects.filter(pk=shop["order"].pk), boss),
        "after_sales": queries(AFTER_SALES, AfterSale.objects.all(), boss),
        "commissions": queries(
            COMMISSIONS,
            Commission.objects.filter(pk=Commission.objects.filter(order=shop["order"]).first().pk),
            boss,
        ),
    }
    more = make_product("更多", price=1000)
    for _ in range(5):
        order = buy(bound_buyer(shop["b"]), (sku(more), 2), (sku(shop["cup"]), 1))
        staff_refund(order, {"line_id": line(order).pk, "quantity": 1})
    assert queries(ORDERS, Order.objects.all(), boss) == first["orders"]
    assert queries(AFTER_SALES, AfterSale.objects.all(), boss) == first["after_sales"]
    assert queries(COMMISSIONS, Commission.objects.all(), boss) == first["commissions"]
    assert first["orders"] <= 5


def test_chunks_keep_the_count_per_chunk(shop, monkeypatch):
    """With chunks of one order, each further order costs the same few queries."""
    from fenxiao.core import exports

    boss = make_staff("boss", superuser=True)
    monkeypatch.setattr(exports, "CHUNK", 1)
    one = queries(ORDERS, Order.objects.filter(pk=shop["order"].pk), boss)
    two = queries(ORDERS, Order.objects.all(), boss)
    rows = list(ORDERS.rows(Order.objects.all(), boss))
    assert [r[0] for r in rows] == [shop["other"].number, shop["order"].number, shop["order"].number]
    assert two <= 2 * one + 1


# --- large lists: a background job with progress and a download link ------------------------


@pytest.fixture
def jobs_in_memory(settings, monkeypatch):
    from fenxiao.core.admin_exports import ExportMixin

    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    # Every list is "large" here, so the job path runs with a small shop.
    monkeypatch.setattr(ExportMixin, "export_direct_limit", 0)


def download(client, job):
    reply = client.get(reverse("admin:core_job_download", args=[job.pk]))
    assert reply.status_code == 200
    return b"".join(reply.streaming_content)


def test_a_large_export_runs_as_a_job_and_its_file_downloads(shop, jobs_in_memory):
    from fenxiao.core.models import Job

    client = operations()
    reply = client.get(export_url("orders_order", "xlsx"))
    job = Job.objects.get()
    assert reply.status_code == 302 and reply["Location"] == reverse("admin:core_job_change", args=[job.pk])
    assert (job.kind, job.status, job.title) == (
        "export.orders.order.phones",
        "succeeded",
        "导出订单（Excel）",
    )
    assert (job.total, job.done, job.summary) == (2, 2, {"records": 2, "rows": 3})
    page = client.get(reverse("admin:core_job_change", args=[job.pk])).content.decode()
    assert "已完成" in page and reverse("admin:core_job_download", args=[job.pk]) in page

    sheet = load_workbook(io.BytesIO(download(client, job))).active
    values = list(sheet.values)
    rows = [dict(zip(values[0], v, strict=True)) for v in values[1:]]
    assert [r["订单号"] for r in rows] == [shop["other"].number, shop["order"].number, shop["order"].number]
    cup = rows[1]
    assert cup["买家手机号"] == "13812345678"  # 运营 see phones; so does whoever may see this kind
    assert Decimal(str(cup["商品实付（元）"])) == Decimal("99.99")
    assert Decimal(str(cup["一级佣金（元）"])) == Decimal("6.66")


def test_a_job_exports_the_filtered_list_and_masks_phones_for_whoever_may_read_it(shop, jobs_in_memory):
    from fenxiao.core.models import Job

    fin = finance()
    assert fin.get(export_url("orders_order", "csv"), {"q": shop["order"].number}).status_code == 302
    job = Job.objects.get()
    assert job.kind == "export.orders.order" and job.status == "succeeded"
    text = download(fin, job).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    # The 20-digit order number stays text in Excel (not 2.02612E+19): a leading tab.
    assert {r["订单号"] for r in rows} == {"\t" + shop["order"].number} and len(rows) == 2
    assert rows[0]["买家手机号"] == "138****5678"
    assert rows[0]["商品已退款（元）"] == "33.33"
    # 运营 may read the masked file too; finance may not read a file with full phones.
    ops = operations()
    assert ops.get(reverse("admin:core_job_download", args=[job.pk])).status_code == 200
    ops.get(export_url("orders_order", "csv"))
    full = Job.objects.get(kind="export.orders.order.phones")
    assert fin.get(reverse("admin:core_job_download", args=[full.pk])).status_code == 404
    # Nor may staff who cannot view orders read either.
    viewer = login(make_staff("stock", perms=["catalog.view_product", "customers.view_customer_phone"]))
    assert viewer.get(reverse("admin:core_job_download", args=[job.pk])).status_code in (403, 404)
    assert viewer.get(reverse("admin:core_job_download", args=[full.pk])).status_code in (403, 404)


def test_every_list_exports_as_a_job(shop, jobs_in_memory):
    from fenxiao.core.models import Job

    client = login(make_staff("boss", superuser=True))
    for model, title in (
        ("orders_aftersale", "导出售后（CSV）"),
        ("customers_customer", "导出客户（CSV）"),
        ("distribution_commission", "导出佣金记录（CSV）"),
        ("catalog_product", "导出商品（CSV）"),
    ):
        client.get(export_url(model, "csv"))
        job = Job.objects.get(title=title)
        assert job.status == "succeeded", job.message
        assert download(client, job).decode("utf-8-sig").count("\n") == job.summary["rows"] + 1
    # Nothing to export is no job: the (empty) file at once.
    empty = client.get(export_url("distribution_withdrawal", "csv"))
    assert empty.status_code == 200 and empty.content.decode("utf-8-sig").startswith("提现单号,")


def test_a_job_reports_progress_chunk_by_chunk(shop, jobs_in_memory, monkeypatch):
    from fenxiao.core import exports, jobs
    from fenxiao.core.models import Job

    monkeypatch.setattr(exports, "CHUNK", 1)
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0)
    reported = []
    original = jobs.JobRun.progress

    def spy(run, done, **kwargs):
        reported.append((done, kwargs.get("total", run.job.total)))
        return original(run, done, **kwargs)

    monkeypatch.setattr(jobs.JobRun, "progress", spy)
    operations().get(export_url("orders_order", "csv"))
    job = Job.objects.get()
    assert job.status == "succeeded" and (job.done, job.total) == (2, 2)
    assert reported == [(0, 2), (1, 2), (2, 2)]
