"""A report's table as a CSV or Excel file: the same rows and total the page shows, with
amounts in yuan (two decimals) and rates in percent, as numbers a spreadsheet can sum."""

from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import gettext as _

from fenxiao.core.money import bp_to_percent, fen_to_yuan
from fenxiao.core.tabular import Cell, csv_response, xlsx_response

from ..services import periods
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
        # An id (商品ID) stays a number, so a spreadsheet can match it against other files.
        return value if isinstance(value, int) else "" if value is None else str(value)
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


def by_grain(report: Report) -> bool:
    """Whether the table has a row per bucket of the period (day, week, month): only then
    does the grain change the file."""
    return any(column.key == "bucket" for column in report.table.columns)


# Characters a file name may not hold on some system, or that would end the quoted
# `filename="…"` of the download's Content-Disposition.
UNSAFE = set('/\\:*?"<>|;')


def _safe(text: str) -> str:
    return "".join("-" if ch in UNSAFE or not ch.isprintable() else ch for ch in text).strip()


def filename(report: Report, ext: str, page: str = "") -> str:
    """Says what the file holds, as merchants file them, in the page's language:
    the report page, the section, the grain when rows are buckets, and the period
    ("销售报表_销售趋势_按周_2026-11-01_2026-11-30.xlsx"), so two exports of different
    grains or periods never share a name. The download's Content-Disposition carries it as
    UTF-8 with an ASCII fallback, as every export's."""
    period = report.period
    parts = [page, report.title]
    if by_grain(report):
        parts.append(str(periods.GRAINS.get(period.grain, period.grain)))
    parts += [f"{period.start:%Y-%m-%d}", f"{period.end:%Y-%m-%d}"]
    return "_".join(part for part in map(_safe, map(str, parts)) if part) + f".{ext}"


def export(report: Report, fmt: str, page: str = "") -> HttpResponse:
    name = filename(report, fmt, page)
    if fmt == "xlsx":
        return xlsx_response(name, report.title, headers(report), rows(report))
    return csv_response(name, headers(report), rows(report))
