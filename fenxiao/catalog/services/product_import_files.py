"""Reading a product file (CSV or .xlsx) into rows by column key, and the pictures of an
uploaded zip, with the size limits that keep either from exhausting the worker. What the
rows mean is checked by `product_import.plan_rows`."""

import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePosixPath

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core import safe_fetch
from fenxiao.core.tabular import FORMULA_STARTS, read_csv, read_xlsx

from ..errors import CatalogInvalid
from . import product_import_columns as spec

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_ZIP_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_TOTAL = 300 * 1024 * 1024  # uncompressed, all entries together


class ImportFileInvalid(CatalogInvalid):
    code = "IMPORT_FILE_INVALID"
    message = gettext_lazy("文件无法读取")


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it (the header is row 1)
    cells: dict  # column key -> text


# --- reading the file -------------------------------------------------------------------------


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return spec.yes_no(value)
    if isinstance(value, float):
        # Excel keeps numbers as binary floats: repr gives the shortest text that reads back
        # as the same float, i.e. what the merchant typed ("59.9", not 59.899999…).
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        return text[:-2] if text.endswith(".0") else text
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    text = str(value).strip()
    # An export writes text a spreadsheet would run as a formula with a leading apostrophe.
    if text.startswith("'") and text[1:2] and text[1:2] in FORMULA_STARTS:
        text = text[1:]
    return text


def read_rows(data: bytes, filename: str) -> list[Row]:
    """The data rows of the file by header; refuses a file that cannot be read, lacks a
    required column or has no rows."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileInvalid(
            _("文件不能超过 %(MAX_FILE_BYTES)sMB") % {"MAX_FILE_BYTES": MAX_FILE_BYTES // (1024 * 1024)}
        )
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        raw = read_xlsx(
            data,
            ImportFileInvalid,
            unreadable=_("Excel 文件无法打开，请使用模板另存为 .xlsx 后重新上传"),
            limit=MAX_ROWS + 2,
            sheet="商品",
        )
    elif lower.endswith(".csv"):
        raw = read_csv(data, ImportFileInvalid)
    else:
        raise ImportFileInvalid(_("只支持 .xlsx 或 .csv 文件"))
    if not raw:
        raise ImportFileInvalid(_("文件是空的"))
    keys = [spec.HEADER_KEYS.get(spec.normalize_header(h)) for h in raw[0]]
    missing = [c.header for c in spec.REQUIRED if c.key not in keys]
    if missing:
        raise ImportFileInvalid(
            _("缺少必填列：%(missing)s（请使用导入模板）") % {"missing": "、".join(missing)}
        )
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        cells = {}
        for key, value in zip(keys, values, strict=False):
            if key and key not in cells:
                cells[key] = _cell_text(value)
        if any(cells.values()):
            rows.append(Row(number, cells))
    if not rows:
        raise ImportFileInvalid(_("文件中没有商品数据"))
    if len(rows) > MAX_ROWS:
        raise ImportFileInvalid(_("一次最多导入 %(MAX_ROWS)s 行，请拆分文件") % {"MAX_ROWS": MAX_ROWS})
    return rows


# --- pictures in a zip ---------------------------------------------------------------------------


class ImageZip:
    """Pictures uploaded in a .zip, found by file name. Zip-bomb safe: the number of
    entries, each picture's size and the total uncompressed size are limited, and sizes are
    enforced while reading (the header's figures are not trusted)."""

    def __init__(self, data: bytes | None):
        self.entries: dict[str, list[zipfile.ZipInfo]] = defaultdict(list)
        self.zip = None
        if not data:
            return
        if len(data) > MAX_ZIP_BYTES:
            raise ImportFileInvalid(
                _("图片压缩包不能超过 %(MAX_ZIP_BYTES)sMB")
                % {"MAX_ZIP_BYTES": MAX_ZIP_BYTES // (1024 * 1024)}
            )
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFileInvalid(_("图片压缩包无法打开，请上传 .zip 文件")) from exc
        files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        if len(files) > MAX_ZIP_ENTRIES:
            raise ImportFileInvalid(
                _("图片压缩包最多 %(MAX_ZIP_ENTRIES)s 个文件") % {"MAX_ZIP_ENTRIES": MAX_ZIP_ENTRIES}
            )
        if sum(i.file_size for i in files) > MAX_ZIP_TOTAL:
            raise ImportFileInvalid(_("图片压缩包解压后过大"))
        for info in files:
            name = PurePosixPath(info.filename.replace("\\", "/")).name
            if name and not name.startswith("."):
                self.entries[name.casefold()].append(info)

    def find(self, name: str) -> zipfile.ZipInfo | str:
        """The entry named `name` (or its last path part), or a Chinese reason: reasons are
        kept on the import job as its row errors are (in the shop's language)."""
        if self.zip is None:
            return "未上传图片压缩包，图片请填 http(s) 链接或同时上传 zip"
        found = self.entries.get(PurePosixPath(name.replace("\\", "/")).name.casefold(), [])
        if not found:
            return f"压缩包中没有图片“{name}”"
        if len(found) > 1:
            return f"压缩包中有多个名为“{name}”的文件"
        return found[0]

    def read(self, info: zipfile.ZipInfo) -> bytes:
        if info.file_size > safe_fetch.MAX_BYTES:
            raise safe_fetch.FetchRefused("图片超过 5MB")
        try:
            with self.zip.open(info) as handle:
                data = handle.read(safe_fetch.MAX_BYTES + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            raise safe_fetch.FetchRefused("压缩包中的图片无法读取") from exc
        if len(data) > safe_fetch.MAX_BYTES:
            raise safe_fetch.FetchRefused("图片超过 5MB")
        return data
