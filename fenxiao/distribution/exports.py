"""Payout files for finance: withdrawals as CSV (UTF-8 with BOM, so Excel reads Chinese)
or Excel (.xlsx). Amounts in yuan with two decimals; times in the mall's time zone.

Text typed by distributors (names, account numbers) is written so that a spreadsheet never
runs it as a formula (CSV/formula injection): the writing itself is `core/tabular.py`'s.
"""

from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from fenxiao.core import tabular
from fenxiao.core.money import fen_to_yuan
from fenxiao.core.tabular import FORMULA_STARTS, Cell, safe_text  # noqa: F401 (re-exported)

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
WIDTHS = dict(enumerate([22, 12, 14, 10, 16, 12, 16, 24, 14, 12, 14, 14, 22, 20, 20]))
CHUNK = 2000
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _time_text(value) -> str:
    return f"{_local(value):%Y-%m-%d %H:%M:%S}" if value else ""


def money_cell(fen: int) -> Cell:
    """Yuan with two decimals: a number in Excel, "12.34" in CSV (never text, so a
    negative amount is not mistaken for a formula and stays summable)."""
    yuan = fen_to_yuan(fen)
    return Cell(Decimal(yuan), yuan, "0.00")


def time_cell(value) -> Cell:
    """A time in the mall's zone: a date cell in Excel, "2026-01-02 03:04:05" in CSV."""
    return Cell(_local(value), _time_text(value), TIME_FORMAT)


def payout_rows(queryset):
    """One sheet row per withdrawal, read in chunks (a fixed query count)."""
    queryset = queryset.select_related("distributor__user").order_by("id")
    for w in queryset.iterator(chunk_size=CHUNK):
        user = w.distributor.user
        account = w.account or {}
        name = w.distributor.real_name or user.nickname or ""
        yield [
            w.number,
            name,
            user.phone or "",
            w.distributor.referral_code,
            w.get_method_display(),
            account.get("name", ""),
            account.get("bank", ""),
            account.get("account", ""),
            money_cell(w.amount),
            money_cell(w.fee),
            money_cell(w.payout),
            w.get_status_display(),
            w.payout_reference,
            time_cell(w.created_at),
            time_cell(w.paid_at),
        ]


def filename(ext: str) -> str:
    return f"payouts-{timezone.localtime():%Y%m%d-%H%M%S}.{ext}"


def csv_response(queryset) -> HttpResponse:
    return tabular.csv_response(filename("csv"), HEADERS, payout_rows(queryset))


def xlsx_response(queryset) -> HttpResponse:
    return tabular.xlsx_response(filename("xlsx"), "提现打款", HEADERS, payout_rows(queryset), widths=WIDTHS)


EXPORTERS = {"csv": csv_response, "xlsx": xlsx_response}


def export(queryset, fmt: str) -> HttpResponse:
    return EXPORTERS[fmt](queryset)
