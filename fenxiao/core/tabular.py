"""Spreadsheet files for people: CSV (UTF-8 with a BOM, so Excel reads Chinese) and Excel.

Every file the backend hands out is opened in a spreadsheet, so any text cell that a
spreadsheet would run as a formula (starting with = + - @ or a control character) is
written with a leading apostrophe (CSV/formula injection). Figures are written as numbers,
never as text, so they stay summable; only text goes through `safe_text`.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass
class Cell:
    """A figure for a sheet: `value` as written (a Decimal, an int, or a naive local
    datetime; None leaves the cell empty), `csv` as the CSV shows it, and the Excel
    number format."""

    value: Decimal | int | datetime | None
    csv: str
    number_format: str = "General"


def _csv_value(value) -> str:
    if isinstance(value, Cell):
        return value.csv
    if isinstance(value, int | Decimal):
        return str(value)
    return safe_text(value)


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    # An ASCII name for old clients; the UTF-8 one (RFC 6266) lets Chinese names through.
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def csv_response(filename: str, headers: list[str], rows) -> HttpResponse:
    """`rows` are lists of text, ints, Decimals or `Cell`s, in the order of `headers`."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([safe_text(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    return _attachment(response, filename)


def xlsx_response(filename: str, sheet_title: str, headers: list[str], rows, widths=None) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    # Excel refuses sheet titles over 31 characters or with []:*?/\ in them.
    sheet.title = "".join(c for c in sheet_title if c not in "[]:*?/\\")[:31] or "Sheet1"
    sheet.append([safe_text(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values, formats = [], []
        for v in row:
            if isinstance(v, Cell):
                values.append(v.value)
                formats.append(v.number_format)
            elif isinstance(v, int | Decimal):
                values.append(v)
                formats.append(None)
            else:
                values.append(safe_text(v))
                formats.append(None)
        sheet.append(values)
        for cell, fmt in zip(sheet[sheet.max_row], formats, strict=False):
            if fmt:
                cell.number_format = fmt
    for index, header in enumerate(headers, start=1):
        width = (widths or {}).get(index - 1) or max(10, min(40, len(str(header)) * 2 + 4))
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return _attachment(HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE), filename)
