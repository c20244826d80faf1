"""Reading what merchants upload (`read_csv`, `read_xlsx`): each caller words its own
refusals, and a sheet full of formatted but empty rows is bounded without those rows counting
against the caller's row limit (批量发货 reads this way; the other callers count every row)."""

import io

import pytest
from openpyxl import Workbook

from fenxiao.core.errors import DomainError
from fenxiao.core.tabular import read_csv, read_xlsx


class Refused(DomainError):
    code = "TEST_REFUSED"


def sheet(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# The header, a filled row, 5 rows holding only blanks (formatting a spreadsheet keeps as
# cells), then 3 more filled rows.
BLANK = [" ", None]
GAPPY = sheet(
    [["订单号", "运单号"], ["A1", "SF1"], *[BLANK] * 5, ["A2", "SF2"], ["A3", "SF3"], ["A4", "SF4"]]
)


def read(**options):
    return read_xlsx(GAPPY, Refused, unreadable="打不开", **options)


def test_by_default_the_limit_counts_every_row_blank_or_not():
    rows = read(limit=4)
    assert len(rows) == 4 and rows[-1] == BLANK


def test_with_rows_read_the_limit_counts_only_filled_rows():
    rows = read(limit=4, rows_read=100)
    # Header, A1, the five blank rows, A2, A3: the fourth filled row ends the reading.
    assert len(rows) == 9 and rows[-1] == ["A3", "SF3"]
    assert len(read(limit=100, rows_read=100)) == 10  # the whole sheet when under both bounds


def test_with_rows_read_blank_rows_are_bounded_too():
    rows = read(limit=100, rows_read=4)
    assert len(rows) == 4 and rows[-1] == BLANK


def test_an_unreadable_excel_file_is_refused_in_the_callers_words():
    with pytest.raises(Refused, match="打不开"):
        read_xlsx(b"not a zip", Refused, unreadable="打不开", limit=10)


@pytest.mark.parametrize(
    "data, default",
    [
        (b"\xff\xff\xff", "CSV 文件编码无法识别"),  # neither UTF-8 nor GB18030
        ('"{}"'.format("x" * 200_000).encode(), "CSV 文件格式有误，无法读取"),  # a field too large
    ],
)
def test_a_bad_csv_file_is_refused_in_the_default_or_the_callers_words(data, default):
    with pytest.raises(Refused, match=default):
        read_csv(data, Refused)
    with pytest.raises(Refused, match="^请重新导出$"):
        read_csv(data, Refused, undecodable="请重新导出", malformed="请重新导出")


def test_csv_in_utf8_with_a_bom_or_gbk_reads_the_same():
    text = "订单号,运单号\r\nA1,SF1\r\n"
    for data in (text.encode("utf-8-sig"), text.encode("utf-8"), text.encode("gbk")):
        assert read_csv(data, Refused) == [["订单号", "运单号"], ["A1", "SF1"]]
