"""The one spreadsheet writer: CSV with a BOM, Excel in write-only mode; no cell starts a
formula, money is exact to the fen, text a spreadsheet cannot hold is dropped, not fatal."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from openpyxl import load_workbook

from fenxiao.core import tabular
from fenxiao.core.tabular import money_cell, time_cell


def rows():
    yield ["=SUM(A1)", money_cell(1), money_cell(-250), money_cell(None), 7, "控制\x01字符"]
    yield [
        "+1",
        money_cell(123456789),
        money_cell(0),
        time_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        0,
        "",
    ]


HEADERS = ["文本", "金额（元）", "退款（元）", "空", "数量", "备注"]


def test_csv_streams_to_a_file_with_a_bom_and_guarded_text():
    out = io.BytesIO()
    assert tabular.write_csv(out, HEADERS, rows()) == 2
    body = out.getvalue()
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0] == HEADERS
    assert table[1][:5] == ["'=SUM(A1)", "0.01", "-2.50", "", "7"]
    assert table[2][:3] == ["'+1", "1234567.89", "0.00"]
    assert table[2][3].startswith("2026-01-02 ")


def test_excel_has_numbers_exact_to_the_fen_and_survives_control_characters():
    out = io.BytesIO()
    assert tabular.write_xlsx(out, "订单:明细/2026", HEADERS, rows(), widths={0: 30}) == 2
    book = load_workbook(io.BytesIO(out.getvalue()))
    sheet = book.active
    assert sheet.title == "订单明细2026"
    values = list(sheet.values)
    assert values[0] == tuple(HEADERS)
    assert values[1][0] == "'=SUM(A1)" and values[1][5] == "控制字符"
    assert Decimal(str(values[1][1])) == Decimal("0.01") and Decimal(str(values[2][1])) == Decimal(
        "1234567.89"
    )
    assert values[1][3] is None
    assert sheet.cell(row=2, column=2).number_format == "0.00"
    assert sheet.cell(row=3, column=4).is_date
    assert sheet.column_dimensions["A"].width == 30


def test_a_download_keeps_the_ascii_parts_of_its_name_for_old_clients():
    """Clients without RFC 6266 save the quoted fallback: it keeps the dates, words and
    extension, led by "export" when dropping the Chinese left no word (it was
    "__2026-11-01_2026-11-30.xlsx" or "-20260102-030405.xlsx")."""
    from urllib.parse import unquote

    reply = tabular.csv_response("销售报表_商品销售_2026-11-01_2026-11-30.csv", ["a"], [[1]])
    disposition = reply["Content-Disposition"]
    assert disposition.startswith('attachment; filename="export_2026-11-01_2026-11-30.csv"; ')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "销售报表_商品销售_2026-11-01_2026-11-30.csv"
    assert tabular.ascii_filename("订单-20260102-030405.xlsx") == "export_20260102-030405.xlsx"
    assert (
        tabular.ascii_filename("Sales trend_by week_2026-11-01.xlsx") == "Sales_trend_by_week_2026-11-01.xlsx"
    )
    assert tabular.ascii_filename('导出"；\\.csv') == "export.csv"
    assert 'filename="store-A1.csv"' in tabular.csv_response("store-A1.csv", ["a"], [])["Content-Disposition"]


def test_csv_keeps_long_and_zero_led_digit_text_as_text_for_excel():
    card, order, barcode = "6222021234567890123", "202612051234567890", "0012345"
    out = io.BytesIO()
    tabular.write_csv(
        out,
        ["卡号", "订单号", "条码", "手机号", "数量", "编码"],
        [[card, order, barcode, "13812345678", 12345678901234, "12345"]],
    )
    [row] = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))[1:]
    # Text of digits Excel would show as 6.22E+18 or strip of its zeros leads with a tab;
    # shorter digits, and figures written as numbers, are left as they are.
    assert row == ["\t" + card, "\t" + order, "\t" + barcode, "13812345678", "12345678901234", "12345"]
