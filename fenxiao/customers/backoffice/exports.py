"""The customer list as CSV (UTF-8 with BOM) or Excel, with the distribution exports'
safe writing (no cell starts a formula). Phones are masked unless the staff member may
see them, exactly as on the page."""

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from fenxiao.core.money import fen_to_yuan
from fenxiao.distribution.exports import _local, _time_text, safe_text

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
CHUNK = 2000


def _rows(queryset, full_phone: bool):
    # Chunks of ids, each read with the list's joins and one tag prefetch: a query count
    # that grows with the export's size / CHUNK, never per customer.
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    from .listing import customers_queryset

    for start in range(0, len(ids), CHUNK):
        for customer in customers_queryset().filter(pk__in=ids[start : start + CHUNK]).order_by("pk"):
            yield row(customer, full_phone)


def filename(ext: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M%S}.{ext}"


def csv_response(queryset, full_phone: bool) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for r in _rows(queryset, full_phone):
        writer.writerow(
            [
                r["id"],
                safe_text(r["nickname"]),
                safe_text(r["phone"]),
                _time_text(r["date_joined"]),
                safe_text(r["source"]),
                safe_text(r["distributor"]),
                r["paid_orders"],
                fen_to_yuan(r["total_spend"]),
                _time_text(r["last_paid_at"]),
                safe_text(r["tags"]),
            ]
        )
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename("csv")}"'
    return response


def xlsx_response(queryset, full_phone: bool) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "客户"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in _rows(queryset, full_phone):
        sheet.append(
            [
                r["id"],
                safe_text(r["nickname"]),
                safe_text(r["phone"]),
                _local(r["date_joined"]),
                safe_text(r["source"]),
                safe_text(r["distributor"]),
                r["paid_orders"],
                Decimal(fen_to_yuan(r["total_spend"])),
                _local(r["last_paid_at"]),
                safe_text(r["tags"]),
            ]
        )
    for cells in sheet.iter_rows(min_row=2):
        cells[3].number_format = "yyyy-mm-dd hh:mm:ss"
        cells[7].number_format = "0.00"
        cells[8].number_format = "yyyy-mm-dd hh:mm:ss"
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename("xlsx")}"'
    return response


EXPORTERS = {"csv": csv_response, "xlsx": xlsx_response}
