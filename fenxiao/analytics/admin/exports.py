"""A report's table as a CSV or Excel file: the same rows and total the page shows, with
amounts in yuan (two decimals) and rates in percent, as numbers a spreadsheet can sum."""

from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext as _

from fenxiao.core.money import bp_to_percent, fen_to_yuan
from fenxiao.core.tabular import Cell, csv_response, xlsx_response

from ..services.shapes import BP, FEN, Report

FORMATS = ("csv", "xlsx")


def headers(report: Report) -> list[str]:
    out = []
    for column in report.table.columns:
        suffix = {FEN: _("（元）"), BP: _("（%）")}.get(column.unit, "") if not column.text else ""
        out.append(f"{column.label}{suffix}")
    return out


def _cell(value, column):
    if column.text:
        return "" if value is None else str(value)
    if value is None or value == "":
        return ""
    if column.unit == FEN:
        text = fen_to_yuan(value)
        return Cell(Decimal(text), text, "0.00")
    if column.unit == BP:
        return Cell(Decimal(value) / 10000, bp_to_percent(value), "0.00%")
    return int(value) if isinstance(value, int) else str(value)


def rows(report: Report):
    columns = report.table.columns
    for row in report.table.rows:
        yield [_cell(row.get(c.key), c) for c in columns]
    if report.table.totals:
        total = [_cell(report.table.totals.get(c.key), c) for c in columns]
        # The total row is named in its first text column, as on the page.
        for index, column in enumerate(columns):
            if column.text:
                if not total[index]:
                    total[index] = _("合计")
                break
        yield total


def filename(report: Report, ext: str) -> str:
    """Named as merchants file them, in the page's language ("按商品-20261101-20261130.csv"),
    as the order export is; the download's Content-Disposition carries it as UTF-8."""
    period = report.period
    title = "".join("-" if ch in '/\\:*?"<>|' else ch for ch in str(report.title))
    return f"{title}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{ext}"


def export(report: Report, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        return xlsx_response(filename(report, "xlsx"), report.title, headers(report), rows(report))
    return csv_response(filename(report, "csv"), headers(report), rows(report))
