"""Spreadsheets for the product import tests, written the way a merchant's would be."""

import io
import zipfile

from PIL import Image

from fenxiao.catalog.services import product_import_columns as spec


def row(**cells) -> dict:
    """A row by column key (see product_import_columns.COLUMNS)."""
    return cells


def _matrix(rows: list[dict]) -> list[list]:
    return [[spec.header_text(c) for c in spec.COLUMNS]] + [
        [r.get(c.key, "") for c in spec.COLUMNS] for r in rows
    ]


def csv_file(rows: list[dict], encoding="utf-8-sig") -> bytes:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows(_matrix(rows))
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "商品"
    for values in _matrix(rows):
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def image_bytes(fmt="PNG", colour="#c00") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, fmt)
    return buffer.getvalue()


def zip_file(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
