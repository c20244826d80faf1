"""Spreadsheet files for people: CSV (UTF-8 with a BOM, so Excel reads Chinese) and Excel,
written for download and read back from an upload (`read_csv`, `read_xlsx`).

Every file the backend hands out is opened in a spreadsheet, so any text cell that a
spreadsheet would run as a formula (starting with = + - @ or a control character) is
written with a leading apostrophe (CSV/formula injection). Figures are written as numbers,
never as text, so they stay summable; only text goes through `safe_text`. In CSV, text of
digits that Excel would turn into a number (a bank card, a barcode) keeps its digits.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .money import fen_to_yuan

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


TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def money_cell(fen: int | None) -> Cell:
    """Yuan with two decimals: a number in Excel, "12.34" in CSV (never text, so a
    negative amount is not mistaken for a formula and stays summable; never a float, so
    it is exact to the fen). None leaves the cell empty."""
    if fen is None:
        return Cell(None, "")
    yuan = fen_to_yuan(fen)
    return Cell(Decimal(yuan), yuan, "0.00")


def local_naive(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def time_cell(value) -> Cell:
    """A time in the mall's zone: a date cell in Excel, "2026-01-02 03:04:05" in CSV."""
    local = local_naive(value)
    return Cell(local, f"{local:%Y-%m-%d %H:%M:%S}" if local else "", TIME_FORMAT)


# Digits Excel would read as a number and spoil: 12 or more show as 6.22E+18 (and lose
# everything past the 15th), a leading zero is dropped. Bank cards, order numbers, barcodes.
_SPOILED_DIGITS = re.compile(r"\d{12,}|0\d+")


def _csv_value(value) -> str:
    if isinstance(value, Cell):
        return value.csv
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str) and value.isascii() and _SPOILED_DIGITS.fullmatch(value):
        # A leading tab makes Excel and WPS keep the cell as text, every digit shown; the
        # importers strip it on the way back in. (The .xlsx writes text cells and needs none.)
        return "\t" + value
    return safe_text(value)


def ascii_filename(filename: str) -> str:
    """The name a client without RFC 6266 support saves: the name's ASCII parts (its dates,
    numbers and extension) joined by "_", led by "export" when no word is left. Dropping the
    Chinese alone turned "订单-20260102-030405.xlsx" into "-20260102-030405.xlsx" and
    "销售报表_商品销售_…" into "__…"."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    parts = [part.strip(".-") for part in re.split(r"[^A-Za-z0-9.-]+", stem)]
    parts = [part for part in parts if part]
    if not any(re.search(r"[A-Za-z]", part) for part in parts):
        parts.insert(0, "export")
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)
    return "_".join(parts) + (f".{ext}" if ext else "")


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    # An ASCII name for old clients; the UTF-8 one (RFC 6266) lets Chinese names through.
    from urllib.parse import quote

    fallback = filename if re.fullmatch(r"[A-Za-z0-9._-]+", filename) else ascii_filename(filename)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def write_csv(out, headers: list[str], rows) -> int:
    """Write a CSV file (UTF-8 with a BOM) to the binary file `out`, a row at a time, so a
    file of any size takes constant memory; returns the number of rows written."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        text.write("\ufeff")
        writer = csv.writer(text)
        writer.writerow([safe_text(h) for h in headers])
        count = 0
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])
            count += 1
        text.flush()
        return count
    finally:
        # The caller owns `out`: let go of it without closing it.
        text.detach()


def _xlsx_text(value) -> str:
    # openpyxl refuses control characters inside a string; a spreadsheet cannot show them.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", safe_text(value))


def _sheet_title(title: str) -> str:
    # Excel refuses sheet titles over 31 characters or with []:*?/\ in them.
    return "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet1"


def write_xlsx(out, sheet_title: str, headers: list[str], rows, widths=None) -> int:
    """Write an Excel file to the binary file `out` with openpyxl's write-only mode (rows
    go to disk as they come, constant memory); returns the number of rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(sheet_title))
    for index, header in enumerate(headers, start=1):
        width = (widths or {}).get(index - 1) or max(10, min(40, len(str(header)) * 2 + 4))
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(h))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        values = []
        for v in row:
            if isinstance(v, Cell):
                cell = WriteOnlyCell(sheet, value=v.value)
                if v.number_format:
                    cell.number_format = v.number_format
                values.append(cell)
            elif isinstance(v, int | Decimal):
                values.append(v)
            else:
                values.append(_xlsx_text(v))
        sheet.append(values)
        count += 1
    book.save(out)
    return count


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}


def write(out, fmt: str, sheet_title: str, headers: list[str], rows, widths=None) -> int:
    """Write `rows` to `out` as `fmt` ("csv" or "xlsx")."""
    if fmt == "csv":
        return write_csv(out, headers, rows)
    return write_xlsx(out, sheet_title, headers, rows, widths=widths)


def file_response(filename: str, fmt: str, sheet_title: str, headers: list[str], rows, widths=None):
    """A download of `rows` built in memory: for files small enough to answer at once (the
    big ones are written to storage by a background job)."""
    buffer = io.BytesIO()
    write(buffer, fmt, sheet_title, headers, rows, widths=widths)
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPES[fmt])
    return _attachment(response, filename)


def csv_response(filename: str, headers: list[str], rows) -> HttpResponse:
    """`rows` are lists of text, ints, Decimals or `Cell`s, in the order of `headers`."""
    return file_response(filename, "csv", "", headers, rows)


def xlsx_response(filename: str, sheet_title: str, headers: list[str], rows, widths=None) -> HttpResponse:
    return file_response(filename, "xlsx", sheet_title, headers, rows, widths=widths)


# --- reading what merchants upload ------------------------------------------------------------


def read_csv(data: bytes, invalid, *, undecodable: str = "", malformed: str = "") -> list[list]:
    """The rows of an uploaded CSV file, each a list of its cells' text. UTF-8 (with or
    without a BOM) or GBK, as Excel on Chinese Windows saves it; anything else is refused
    with `invalid` (the caller's DomainError) in Chinese: `undecodable` and `malformed`
    word the refusals the caller's way (their default is this module's wording)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise invalid(undecodable or _("CSV 文件编码无法识别，请另存为“CSV UTF-8”后重新上传"))
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise invalid(malformed or _("CSV 文件格式有误，无法读取")) from exc


def _blank(values) -> bool:
    return not any(v is not None and str(v).strip() for v in values)


def read_xlsx(
    data: bytes, invalid, *, unreadable: str, limit: int, sheet: str = "", rows_read: int | None = None
) -> list[list]:
    """The rows of an uploaded .xlsx file's sheet named `sheet` (else its first), each a
    list of its cells' values, reading no further than `limit` rows (the caller refuses a
    longer file by the count). A file openpyxl cannot open is refused with `unreadable`.

    With `rows_read`, `limit` counts only rows with something in them, and reading stops
    after `rows_read` rows in all: sheets often carry thousands of formatted but empty rows,
    which should neither count as the merchant's rows nor be read without end."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not .xlsx
        raise invalid(unreadable) from exc
    try:
        found = book[sheet] if sheet in book.sheetnames else book.worksheets[0]
        rows, counted = [], 0
        for values in found.iter_rows(values_only=True):
            rows.append(list(values))
            counted += rows_read is None or not _blank(values)
            if counted >= limit or (rows_read is not None and len(rows) >= rows_read):
                break
        return rows
    finally:
        book.close()
