"""The customer list as CSV (UTF-8 with BOM) or Excel, written by `core/tabular.py` (no
cell starts a formula). Phones are masked unless the staff member may see them, exactly
as on the page."""

from django.http import HttpResponse
from django.utils import timezone

from fenxiao.core import tabular
from fenxiao.distribution.exports import money_cell, time_cell

from .listing import row

HEADERS = [
    "客户ID",
    "昵称",
    "手机号",
    "注册时间",
    "注册来源",
    "绑定分销商",
    "付款订单数",
    "累计消费（元）",
    "最近购买",
    "标签",
]
WIDTHS = dict(enumerate([10, 16, 14, 20, 12, 16, 12, 16, 20, 30]))
CHUNK = 2000


def _rows(queryset, full_phone: bool):
    # Chunks of ids, each read with the list's joins and one tag prefetch: a query count
    # that grows with the export's size / CHUNK, never per customer.
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    from .listing import customers_queryset

    for start in range(0, len(ids), CHUNK):
        for customer in customers_queryset().filter(pk__in=ids[start : start + CHUNK]).order_by("pk"):
            r = row(customer, full_phone)
            yield [
                r["id"],
                r["nickname"],
                r["phone"],
                time_cell(r["date_joined"]),
                r["source"],
                r["distributor"],
                r["paid_orders"],
                money_cell(r["total_spend"]),
                time_cell(r["last_paid_at"]),
                r["tags"],
            ]


def filename(ext: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M%S}.{ext}"


def csv_response(queryset, full_phone: bool) -> HttpResponse:
    return tabular.csv_response(filename("csv"), HEADERS, _rows(queryset, full_phone))


def xlsx_response(queryset, full_phone: bool) -> HttpResponse:
    return tabular.xlsx_response(
        filename("xlsx"), "客户", HEADERS, _rows(queryset, full_phone), widths=WIDTHS
    )


EXPORTERS = {"csv": csv_response, "xlsx": xlsx_response}
