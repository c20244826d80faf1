"""Payout files for finance: withdrawals as CSV (UTF-8 with BOM, so Excel reads Chinese)
or Excel (.xlsx). Amounts in yuan with two decimals; times in the mall's time zone.

Text typed by distributors (names, account numbers) is written so that a spreadsheet never
runs it as a formula (CSV/formula injection).
"""

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from fenxiao.core.money import fen_to_yuan
from fenxiao.core.tabular import FORMULA_STARTS, safe_text  # noqa: F401 (re-exported)

HEADERS = [
    "提现单号",
    "分销商",
    "手机号",
    "推广码",
    "提现方式",
    "收款人",
    "开户银行",
    "收款账号",
    "提现金额（元）",
    "手续费（元）",
    "实际到账（元）",
    "状态",
    "打款凭证号",
    "申请时间",
    "打款时间",
]
MONEY_COLUMNS = {8, 9, 10}
CHUNK = 2000


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _time_text(value) -> str:
    return f"{_local(value):%Y-%m-%d %H:%M:%S}" if value else ""


def payout_rows(queryset):
    """(text columns…, amounts in fen…, times) for each withdrawal, in a fixed query count."""
    queryset = queryset.select_related("distributor__user").order_by("id")
    for w in queryset.iterator(chunk_size=CHUNK):
        user = w.distributor.user
        account = w.account or {}
        name = w.distributor.real_name or user.nickname or ""
        yield {
            "text": [
                w.number,
                name,
                user.phone or "",
                w.distributor.referral_code,
                w.get_method_display(),
                account.get("name", ""),
                account.get("bank", ""),
                account.get("account", ""),
            ],
            "money": [w.amount, w.fee, w.payout],
            "tail": [w.get_status_display(), w.payout_reference],
            "times": [w.created_at, w.paid_at],
        }


def filename(ext: str) -> str:
    return f"payouts-{timezone.localtime():%Y%m%d-%H%M%S}.{ext}"


def csv_response(queryset) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM: Excel opens UTF-8 Chinese correctly
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for row in payout_rows(queryset):
        writer.writerow(
            [safe_text(v) for v in row["text"]]
            + [fen_to_yuan(v) for v in row["money"]]
            + [safe_text(v) for v in row["tail"]]
            + [_time_text(v) for v in row["times"]]
        )
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename("csv")}"'
    return response


def xlsx_response(queryset) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "提现打款"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in payout_rows(queryset):
        sheet.append(
            [safe_text(v) for v in row["text"]]
            + [Decimal(fen_to_yuan(v)) for v in row["money"]]
            + [safe_text(v) for v in row["tail"]]
            + [_local(v) for v in row["times"]]
        )
    for row in sheet.iter_rows(min_row=2):
        for index in MONEY_COLUMNS:
            row[index].number_format = "0.00"
        for cell in row[-2:]:
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
    widths = [22, 12, 14, 10, 16, 12, 16, 24, 14, 12, 14, 14, 22, 20, 20]
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename("xlsx")}"'
    return response


EXPORTERS = {"csv": csv_response, "xlsx": xlsx_response}


def export(queryset, fmt: str) -> HttpResponse:
    return EXPORTERS[fmt](queryset)
