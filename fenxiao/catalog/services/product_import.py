"""Importing products from a spreadsheet (CSV or .xlsx, format in `product_import_columns`).

Two steps, both reading the same `plan`:

1. `dry_run(file, filename, zip)`: parse every row, check it (per-row errors with row
   number, column and a Chinese message) and say what would be created or updated. Nothing
   is written; pictures named by URL are not downloaded yet (their address is checked), zip
   pictures are opened and verified.
2. The import job (`run_import`, a background job of kind IMPORT_KIND): plans again (the
   catalog may have moved since the dry run), downloads the URL pictures through the safe
   fetcher (each failure is a row error), reports progress, then writes everything in ONE
   transaction with set-based statements (bulk_create / bulk_update in chunks). Any error
   → nothing is written. Progress is reported before that transaction (validation and
   downloads are where the time goes); the write itself is a last stage, because a
   progress row written from inside it would stay invisible to the polling page until the
   commit (PostgreSQL) or wait for the write lock the transaction holds (SQLite).

Matching: the SKU编码 finds an existing SKU (and through it its product); rows are grouped
into products by 商品名称. Re-importing the same file updates, never duplicates.
Pictures downloaded for a run are saved to media storage before the transaction; a run
that fails deletes them again.
"""

import csv
import io
import logging
import re
import uuid
import zipfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from fenxiao.core import jobs, safe_fetch
from fenxiao.core.money import yuan_to_fen
from fenxiao.core.tabular import FORMULA_STARTS
from fenxiao.shipping.models import ShippingTemplate

from ..errors import CatalogInvalid
from ..models import Product, ProductImage, Sku
from . import product_import_columns as spec
from .products import sanitize_description

logger = logging.getLogger(__name__)

IMPORT_KIND = "catalog.product_import"
IMPORT_PERMISSION = "catalog.add_product"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_ZIP_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_TOTAL = 300 * 1024 * 1024  # uncompressed, all entries together
MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
MAX_STOCK = 10_000_000
MAX_WEIGHT = 1_000_000
MAX_DESCRIPTION = 50_000
CHUNK = 500
WRITE_STAGE = "写入数据库"
FETCH_WORKERS = 8


class ImportFileInvalid(CatalogInvalid):
    code = "IMPORT_FILE_INVALID"
    message = "文件无法读取"


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it (the header is row 1)
    cells: dict  # column key -> text


@dataclass
class SkuPlan:
    row: int
    code: str
    specs: dict
    price: int
    list_price: int
    stock: int
    weight: int
    active: bool
    sku_id: int | None = None


@dataclass
class ImageRef:
    row: int
    source: str  # "keep" (a picture the product has), "zip" or "url"
    value: str  # ProductImage id for keep, zip name, URL
    stored: str = ""  # storage name once fetched / read


@dataclass
class ProductPlan:
    name: str
    first_row: int
    category_id: int | None = None
    subtitle: str | None = None  # None: keep what the product has
    description: str | None = None
    listed: bool | None = None
    # None: keep what the product has; 0: the shop's flat fee (no template).
    shipping_template_id: int | None = None
    images: list[ImageRef] | None = None
    product_id: int | None = None
    skus: list[SkuPlan] = field(default_factory=list)


@dataclass
class Plan:
    rows: int = 0
    products: list[ProductPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def error(self, row: int, column_key: str, message: str) -> None:
        header = spec.BY_KEY[column_key].header if column_key in spec.BY_KEY else column_key
        self.errors.append(RowError(row, header, message))

    @property
    def counts(self) -> dict:
        skus = [s for p in self.products for s in p.skus]
        return {
            "rows": self.rows,
            "products_new": sum(1 for p in self.products if p.product_id is None),
            "products_updated": sum(1 for p in self.products if p.product_id is not None),
            "skus_new": sum(1 for s in skus if s.sku_id is None),
            "skus_updated": sum(1 for s in skus if s.sku_id is not None),
            "images_to_fetch": sum(
                1 for p in self.products for i in (p.images or []) if i.source in ("url", "zip")
            ),
        }

    def figures(self) -> list[list]:
        c = self.counts
        return [
            ["新建商品", c["products_new"]],
            ["更新商品", c["products_updated"]],
            ["新建SKU", c["skus_new"]],
            ["更新SKU", c["skus_updated"]],
        ]


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


def _csv_rows(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileInvalid("CSV 文件编码无法识别，请另存为“CSV UTF-8”后重新上传")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportFileInvalid("CSV 文件格式有误，无法读取") from exc


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not .xlsx
        raise ImportFileInvalid("Excel 文件无法打开，请使用模板另存为 .xlsx 后重新上传") from exc
    try:
        sheet = book["商品"] if "商品" in book.sheetnames else book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def read_rows(data: bytes, filename: str) -> list[Row]:
    """The data rows of the file by header; refuses a file that cannot be read, lacks a
    required column or has no rows."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileInvalid(f"文件不能超过 {MAX_FILE_BYTES // (1024 * 1024)}MB")
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        raw = _xlsx_rows(data)
    elif lower.endswith(".csv"):
        raw = _csv_rows(data)
    else:
        raise ImportFileInvalid("只支持 .xlsx 或 .csv 文件")
    if not raw:
        raise ImportFileInvalid("文件是空的")
    keys = [spec.HEADER_KEYS.get(spec.normalize_header(h)) for h in raw[0]]
    missing = [c.header for c in spec.REQUIRED if c.key not in keys]
    if missing:
        raise ImportFileInvalid(f"缺少必填列：{'、'.join(missing)}（请使用导入模板）")
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        cells = {}
        for key, value in zip(keys, values, strict=False):
            if key and key not in cells:
                cells[key] = _cell_text(value)
        if any(cells.values()):
            rows.append(Row(number, cells))
    if not rows:
        raise ImportFileInvalid("文件中没有商品数据")
    if len(rows) > MAX_ROWS:
        raise ImportFileInvalid(f"一次最多导入 {MAX_ROWS} 行，请拆分文件")
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
            raise ImportFileInvalid(f"图片压缩包不能超过 {MAX_ZIP_BYTES // (1024 * 1024)}MB")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportFileInvalid("图片压缩包无法打开，请上传 .zip 文件") from exc
        files = [i for i in infos if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        if len(files) > MAX_ZIP_ENTRIES:
            raise ImportFileInvalid(f"图片压缩包最多 {MAX_ZIP_ENTRIES} 个文件")
        if sum(i.file_size for i in files) > MAX_ZIP_TOTAL:
            raise ImportFileInvalid("图片压缩包解压后过大")
        for info in files:
            name = PurePosixPath(info.filename.replace("\\", "/")).name
            if name and not name.startswith("."):
                self.entries[name.casefold()].append(info)

    def find(self, name: str) -> zipfile.ZipInfo | str:
        """The entry named `name` (or its last path part), or a Chinese reason."""
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


# --- checking rows -----------------------------------------------------------------------------

_CODE = re.compile(r"^[^\s]{1,40}$")
_INT = re.compile(r"^[+-]?\d+(\.0+)?$")


def _money(plan: Plan, row: Row, key: str, *, required: bool) -> int | None:
    text = row.cells.get(key, "")
    label = spec.BY_KEY[key].header.split("(")[0]
    if not text:
        if required:
            plan.error(row.number, key, f"{label}必填")
            return None
        return 0
    try:
        fen = yuan_to_fen(text)
    except ValueError:
        if re.fullmatch(r"[¥,\s]*\d[\d,]*\.\d{3,}", text):
            plan.error(row.number, key, f"{label}最多两位小数：{text}")
        else:
            plan.error(row.number, key, f"{label}格式不对：{text}（应为数字，如 59.90）")
        return None
    if fen < 0 or (required and fen == 0):
        plan.error(row.number, key, f"{label}必须大于0" if required else f"{label}不能为负数")
        return None
    if fen > MAX_PRICE_FEN:
        plan.error(row.number, key, f"{label}不能超过100万元")
        return None
    return fen


def _integer(plan: Plan, row: Row, key: str, *, required: bool, maximum: int) -> int | None:
    text = row.cells.get(key, "").replace(",", "")
    label = spec.BY_KEY[key].header.split("(")[0]
    if not text:
        if required:
            plan.error(row.number, key, f"{label}必填")
            return None
        return 0
    if not _INT.match(text):
        plan.error(row.number, key, f"{label}应为整数：{text}")
        return None
    value = int(Decimal(text))
    if value < 0:
        plan.error(row.number, key, f"{label}不能为负数")
        return None
    if value > maximum:
        plan.error(row.number, key, f"{label}不能超过{maximum}")
        return None
    return value


def _yes_no(plan: Plan, row: Row, key: str) -> bool | None:
    text = row.cells.get(key, "").strip().upper()
    if not text:
        return None
    if text in ("是", "Y", "YES", "1", "TRUE"):
        return True
    if text in ("否", "N", "NO", "0", "FALSE"):
        return False
    plan.error(row.number, key, f"请填“是”或“否”，不是“{row.cells.get(key)}”")
    return None


def _specs(plan: Plan, row: Row) -> dict | None:
    specs: dict[str, str] = {}
    ok = True
    for i in range(1, spec.MAX_SPECS + 1):
        name = row.cells.get(f"spec{i}_name", "")
        value = row.cells.get(f"spec{i}_value", "")
        if not name and not value:
            continue
        if not name or not value:
            plan.error(
                row.number, f"spec{i}_name" if not name else f"spec{i}_value", "规格名和规格值要成对填写"
            )
            ok = False
        elif len(name) > 20 or len(value) > 40:
            plan.error(row.number, f"spec{i}_value", "规格名最多20个字，规格值最多40个字")
            ok = False
        elif name in specs:
            plan.error(row.number, f"spec{i}_name", f"规格“{name}”重复")
            ok = False
        else:
            specs[name] = value
    if ok and len(" / ".join(specs.values())) > 120:
        plan.error(row.number, "spec1_value", "规格内容过长")
        ok = False
    return specs if ok else None


def _category_index() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    paths = spec.category_paths()
    by_path: dict[str, list[int]] = defaultdict(list)
    by_leaf: dict[str, list[int]] = defaultdict(list)
    for pk, path in paths.items():
        by_path[path].append(pk)
        by_leaf[path.rsplit("/", 1)[-1]].append(pk)
    return by_path, by_leaf


def _normalize_path(text: str) -> str:
    return "/".join(part.strip() for part in re.split(r"[/／>]", text) if part.strip())


def _split_images(text: str) -> list[str]:
    return [part.strip() for part in text.split(spec.IMAGE_SEPARATOR) if part.strip()]


def _existing_image(url: str, pictures: dict[str, int]) -> int | None:
    """The id of a picture the product already has whose file `url` points to."""
    path = unquote(urlsplit(url).path)
    for name, pk in pictures.items():
        if path.endswith("/" + name) or path == name:
            return pk
    return None


def plan_rows(rows: list[Row], images: ImageZip) -> Plan:
    """Check every row and work out what the import would write. Reads the catalog with a
    fixed number of queries per chunk of rows; writes nothing."""
    plan = Plan(rows=len(rows))
    by_path, by_leaf = _category_index()
    fee_templates = dict(ShippingTemplate.objects.values_list("name", "pk"))
    fee_templates[spec.DEFAULT_SHIPPING] = 0

    # 1. Each row on its own.
    checked: list[tuple[Row, SkuPlan | None, dict]] = []
    first_code_row: dict[str, int] = {}
    for row in rows:
        c = row.cells
        product_cells: dict = {}
        name = c.get("name", "")
        if not name:
            plan.error(row.number, "name", "商品名称必填")
        elif len(name) > 80:
            plan.error(row.number, "name", "商品名称最多80字")
        if len(c.get("subtitle", "")) > 120:
            plan.error(row.number, "subtitle", "卖点最多120字")
        category_text = _normalize_path(c.get("category", ""))
        if category_text:
            found = by_path.get(category_text) or (
                [] if "/" in category_text else by_leaf.get(category_text, [])
            )
            if not found:
                plan.error(row.number, "category", f"分类“{c.get('category')}”不存在，请先在商品分类中创建")
            elif len(found) > 1:
                plan.error(
                    row.number,
                    "category",
                    f"有多个名为“{category_text}”的分类，请填写完整路径，如 服饰/女装/T恤",
                )
            else:
                product_cells["category"] = found[0]
        if len(c.get("description", "")) > MAX_DESCRIPTION:
            plan.error(row.number, "description", f"详情最多{MAX_DESCRIPTION}字")
        listed = _yes_no(plan, row, "listed")
        if listed is not None:
            product_cells["listed"] = listed
        template_name = c.get("shipping_template", "")
        if template_name:
            if template_name in fee_templates:
                product_cells["shipping_template"] = fee_templates[template_name]
            else:
                plan.error(
                    row.number,
                    "shipping_template",
                    f"运费模板“{template_name}”不存在，请先在运费模板中创建，或填 {spec.DEFAULT_SHIPPING}",
                )
        for key in ("subtitle", "description", "images"):
            if c.get(key):
                product_cells[key] = c[key]

        code = c.get("code", "")
        if not code:
            plan.error(row.number, "code", "SKU编码必填")
        elif not _CODE.match(code):
            plan.error(row.number, "code", "SKU编码最多40个字符，不能含空格")
        elif code in first_code_row:
            plan.error(row.number, "code", f"SKU编码“{code}”与第 {first_code_row[code]} 行重复")
            code = ""
        else:
            first_code_row[code] = row.number
        price = _money(plan, row, "price", required=True)
        list_price = _money(plan, row, "list_price", required=False)
        if price and list_price and list_price < price:
            plan.error(row.number, "list_price", "划线价不能低于售价（不显示请留空或填0）")
        stock = _integer(plan, row, "stock", required=True, maximum=MAX_STOCK)
        weight = _integer(plan, row, "weight", required=False, maximum=MAX_WEIGHT)
        active = _yes_no(plan, row, "active")
        specs = _specs(plan, row)
        sku = None
        if code and name and None not in (price, list_price, stock, weight, specs):
            sku = SkuPlan(
                row=row.number,
                code=code,
                specs=specs,
                price=price,
                list_price=list_price,
                stock=stock,
                weight=weight,
                active=True if active is None else active,
            )
        checked.append((row, sku, product_cells))

    # 2. Existing SKUs by code, in chunks.
    codes = list(first_code_row)
    existing: dict[str, tuple[int, int]] = {}
    for start in range(0, len(codes), CHUNK):
        for code, pk, product_id in Sku.objects.filter(code__in=codes[start : start + CHUNK]).values_list(
            "code", "pk", "product_id"
        ):
            existing[code] = (pk, product_id)

    # 3. Rows into products: by name, and within a name by the product an existing SKU
    # belongs to (two products may share a name: each keeps its own SKUs, so an exported
    # catalog imports back unchanged). A new SKU under a name several products share cannot
    # be placed. Product-level cells must agree within a product.
    by_name: dict[str, list[tuple[Row, SkuPlan | None, dict]]] = {}
    for entry in checked:
        name = entry[0].cells.get("name", "")
        if name:
            by_name.setdefault(name, []).append(entry)
    groups: list[tuple[str, int | None, list]] = []
    for name, entries in by_name.items():
        owned: dict[int, list] = defaultdict(list)
        loose = []
        for entry in entries:
            sku = entry[1]
            if sku is not None and sku.code in existing:
                owned[existing[sku.code][1]].append(entry)
            else:
                loose.append(entry)
        if len(owned) > 1:
            for row, sku, _ in loose:
                if sku is not None:
                    plan.error(
                        row.number, "name", f"后台有多个名为“{name}”的商品，新SKU无法确定属于哪一个，请先改名"
                    )
            for product_id, own in owned.items():
                groups.append((name, product_id, own))
        elif owned:
            product_id, own = next(iter(owned.items()))
            groups.append((name, product_id, sorted(own + loose, key=lambda e: e[0].number)))
        else:
            groups.append((name, None, loose))
    owner_of_product: dict[int, str] = {}
    for name, owner, entries in groups:
        product = ProductPlan(name=name, first_row=entries[0][0].number)
        seen: dict[str, tuple[object, int]] = {}
        for row, _, cells in entries:
            for key, value in cells.items():
                if key in seen and seen[key][0] != value:
                    plan.error(
                        row.number,
                        key,
                        f"同一商品（{name}）各行的{spec.BY_KEY[key].header}不一致，"
                        f"与第 {seen[key][1]} 行不同",
                    )
                else:
                    seen.setdefault(key, (value, row.number))
        product.category_id = seen["category"][0] if "category" in seen else None
        category_given = any(row.cells.get("category") for row, _, _ in entries)
        product.subtitle = seen["subtitle"][0] if "subtitle" in seen else None
        product.listed = seen["listed"][0] if "listed" in seen else None
        product.shipping_template_id = seen["shipping_template"][0] if "shipping_template" in seen else None
        if "description" in seen:
            product.description = sanitize_description(seen["description"][0])
        if owner is not None:
            product.product_id = owner
            if product.product_id in owner_of_product:
                plan.error(
                    entries[0][0].number,
                    "name",
                    f"这些SKU与“{owner_of_product[product.product_id]}”的SKU属于同一个已有商品，"
                    "商品名称应一致",
                )
            owner_of_product[product.product_id] = name
        if product.product_id is None and not category_given:
            plan.error(product.first_row, "category", "分类必填")
        # Specs: the same names in the same order, no combination twice.
        spec_names = None
        combos: dict[tuple, int] = {}
        for row, sku, _ in entries:
            if sku is None:
                continue
            if sku.code in existing:
                sku.sku_id = existing[sku.code][0]
            names = tuple(sku.specs)
            if spec_names is None:
                spec_names = names
            elif names != spec_names:
                plan.error(
                    row.number,
                    "spec1_name",
                    "同一商品各SKU的规格名称应一致（"
                    f"第 {product.first_row} 行为 {'、'.join(spec_names) or '无规格'}）",
                )
                continue
            combo = tuple(sku.specs.values())
            if combo in combos:
                message = (
                    f"规格组合与第 {combos[combo]} 行重复"
                    if combo
                    else f"同一商品有多个SKU时必须填写规格（与第 {combos[combo]} 行）"
                )
                plan.error(row.number, "spec1_value", message)
                continue
            combos[combo] = row.number
            product.skus.append(sku)
        if "images" in seen:
            product.images = []
            refs = _split_images(seen["images"][0])
            if len(refs) > spec.MAX_IMAGES:
                plan.error(seen["images"][1], "images", f"每个商品最多{spec.MAX_IMAGES}张图片")
            product.images = [ImageRef(seen["images"][1], "", ref) for ref in refs[: spec.MAX_IMAGES]]
        plan.products.append(product)

    # 4. Pictures: the product's own (kept), in the zip (checked now), or URLs (later).
    _check_images(plan, images)
    # 5. Listing needs something to sell.
    _check_listing(plan)
    plan.errors.sort(key=lambda e: (e.row, spec.HEADERS.index(e.column) if e.column in spec.HEADERS else 99))
    return plan


def _check_images(plan: Plan, images: ImageZip) -> None:
    existing_ids = [p.product_id for p in plan.products if p.product_id and p.images]
    pictures: dict[int, dict[str, int]] = defaultdict(dict)
    for start in range(0, len(existing_ids), CHUNK):
        for pk, product_id, name in ProductImage.objects.filter(
            product_id__in=existing_ids[start : start + CHUNK]
        ).values_list("pk", "product_id", "image"):
            pictures[product_id][name] = pk
    for product in plan.products:
        for ref in product.images or []:
            text = ref.value
            if "://" in text:
                kept = (
                    _existing_image(text, pictures.get(product.product_id, {}))
                    if product.product_id
                    else None
                )
                if kept:
                    ref.source, ref.value = "keep", str(kept)
                    continue
                parts = urlsplit(text)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    plan.error(ref.row, "images", f"图片链接无效：{text}（应以 http:// 或 https:// 开头）")
                    continue
                ref.source = "url"
            else:
                found = images.find(text)
                if isinstance(found, str):
                    plan.error(ref.row, "images", found)
                    continue
                try:
                    safe_fetch.check_image(images.read(found))
                except safe_fetch.FetchRefused as exc:
                    plan.error(ref.row, "images", f"图片“{text}”：{exc.message}")
                    continue
                ref.source = "zip"


def _check_listing(plan: Plan) -> None:
    wanted = [p for p in plan.products if p.listed and not any(s.active for s in p.skus)]
    if not wanted:
        return
    file_codes = {s.code for p in wanted for s in p.skus}
    ids = [p.product_id for p in wanted if p.product_id]
    others = set(
        Sku.objects.filter(product_id__in=ids, is_active=True)
        .exclude(code__in=file_codes)
        .values_list("product_id", flat=True)
    )
    for product in wanted:
        if product.product_id not in others:
            plan.error(product.first_row, "listed", "没有可售的SKU，不能上架")


# --- the dry run (a request) and the job --------------------------------------------------------


def dry_run(data: bytes, filename: str, zip_data: bytes | None = None) -> Plan:
    """What importing this file would do, and every problem it has. Writes nothing.
    Raises ImportFileInvalid for a file that cannot be read at all."""
    return plan_rows(read_rows(data, filename), ImageZip(zip_data))


def start(user, data: bytes, filename: str, zip_data: bytes | None = None, zip_filename: str = "") -> tuple:
    """Check an upload and keep it as a draft job for the staff member to confirm.
    Returns (job, plan); a plan with errors can still be shown, but never confirmed."""
    plan = dry_run(data, filename, zip_data)
    files = {"file": (filename, data)}
    if zip_data:
        files["images"] = (zip_filename or "images.zip", zip_data)
    job = jobs.create(
        IMPORT_KIND,
        user=user,
        title=f"导入商品：{filename}",
        files=files,
        draft=True,
        summary={
            "dry_run": {
                "counts": plan.counts,
                "errors": [e.as_dict() for e in plan.errors[:1000]],
                "error_count": len(plan.errors),
            }
        },
    )
    return job, plan


def confirm(job, user):
    dry = (job.summary or {}).get("dry_run") or {}
    if dry.get("error_count"):
        raise CatalogInvalid("文件有错误，请修改后重新上传")
    return jobs.confirm(job, user)


def run_import(run: jobs.JobRun) -> None:
    """The job: plan again, fetch pictures (progress), write all in one transaction."""
    with run.open_input("file") as handle:
        data = handle.read()
    zip_handle = run.open_input("images")
    zip_data = None
    if zip_handle is not None:
        with zip_handle:
            zip_data = zip_handle.read()
    try:
        rows = read_rows(data, run.input_filename("file"))
        images = ImageZip(zip_data)
    except ImportFileInvalid as exc:
        raise jobs.JobFailed(exc.message) from exc
    run.progress(0, total=len(rows), stage="校验数据", force=True)
    plan = plan_rows(rows, images)
    if plan.errors:
        raise jobs.JobFailed(
            f"文件有 {len(plan.errors)} 处错误，未导入任何数据",
            errors=[e.as_dict() for e in plan.errors[:1000]],
        )
    stored: list[str] = []
    try:
        _fetch_images(run, plan, images, stored)
        if plan.errors:
            raise jobs.JobFailed(
                f"有 {len(plan.errors)} 张图片无法使用，未导入任何数据",
                errors=[e.as_dict() for e in plan.errors[:1000]],
            )
        run.progress(len(rows), stage=WRITE_STAGE, force=True)
        counts, figures = plan.counts, plan.figures()  # before the write gives new ones ids
        try:
            with transaction.atomic():
                run.hold()
                product_ids = write(plan)
                run.succeed(
                    summary={
                        "counts": counts,
                        "figures": figures,
                        "links": [["查看商品", reverse("admin:catalog_product_changelist")]],
                        "product_ids": product_ids[:2000],
                    },
                    message=f"导入完成：{len(rows)} 行",
                )
        except IntegrityError as exc:
            logger.warning("product import %s refused by the database: %s", run.job.pk, exc)
            raise jobs.JobFailed("导入期间有其他人修改了相同的SKU编码，未导入任何数据，请重新导入") from exc
    except BaseException:
        for name in stored:  # pictures of a run that wrote nothing
            default_storage.delete(name)
        raise


def _fetch_images(run: jobs.JobRun, plan: Plan, images: ImageZip, stored: list[str]) -> None:
    """Download / unpack the pictures the plan needs into media storage (before the write
    transaction), reporting progress. Downloads run FETCH_WORKERS at a time (they wait on
    other servers); each distinct URL is fetched once and saved once per product using it.
    Failures become row errors."""
    by_url: dict[str, list[ImageRef]] = defaultdict(list)
    from_zip: list[ImageRef] = []
    for product in plan.products:
        for ref in product.images or []:
            if ref.source == "url":
                by_url[ref.value].append(ref)
            elif ref.source == "zip":
                from_zip.append(ref)
    count = len(by_url) + len(from_zip)
    if not count:
        return
    run.progress(0, stage="下载图片", force=True)
    batch = f"products/import-{run.job.pk}-{uuid.uuid4().hex[:8]}"
    finished = 0

    def keep(refs: list[ImageRef], content: bytes, extension: str) -> None:
        for ref in refs:
            ref.stored = default_storage.save(f"{batch}/{uuid.uuid4().hex}.{extension}", ContentFile(content))
            stored.append(ref.stored)

    def refused(refs: list[ImageRef], exc: safe_fetch.FetchRefused) -> None:
        for ref in refs:
            plan.error(ref.row, "images", f"图片“{ref.value}”：{exc.message}")

    def advance() -> None:
        nonlocal finished
        finished += 1
        run.progress(min(plan.rows - 1, plan.rows * finished // count))

    with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        futures = {pool.submit(safe_fetch.fetch_image, url): url for url in by_url}
        try:
            for future in as_completed(futures):
                refs = by_url[futures[future]]
                try:
                    fetched = future.result()
                except safe_fetch.FetchRefused as exc:
                    refused(refs, exc)
                else:
                    keep(refs, fetched.content, fetched.extension)
                advance()
        except BaseException:
            for future in futures:
                future.cancel()  # the run is over (lost or failed): no more downloads
            raise
    for ref in from_zip:
        try:
            content = images.read(images.find(ref.value))
            extension = safe_fetch.check_image(content)[1]
        except safe_fetch.FetchRefused as exc:
            refused([ref], exc)
        else:
            keep([ref], content, extension)
        advance()


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write(plan: Plan) -> list[int]:
    """Write the plan with set-based statements; call inside a transaction. Returns the ids
    of the products written."""
    new_products = [p for p in plan.products if p.product_id is None]
    for chunk in _chunks(new_products):
        created = Product.objects.bulk_create(
            [
                Product(
                    name=p.name,
                    subtitle=p.subtitle or "",
                    category_id=p.category_id,
                    description=p.description or "",
                    is_listed=bool(p.listed),
                    shipping_template_id=p.shipping_template_id or None,
                )
                for p in chunk
            ]
        )
        for p, obj in zip(chunk, created, strict=True):
            p.product_id = obj.pk

    existing_products = [p for p in plan.products if p not in new_products]
    now = timezone.now()  # bulk_update leaves auto_now fields alone
    for chunk in _chunks(existing_products):
        objs = {o.pk: o for o in Product.objects.filter(pk__in=[p.product_id for p in chunk])}
        for p in chunk:
            obj = objs[p.product_id]
            obj.name, obj.updated_at = p.name, now
            if p.category_id is not None:
                obj.category_id = p.category_id
            if p.subtitle is not None:
                obj.subtitle = p.subtitle
            if p.description is not None:
                obj.description = p.description
            if p.listed is not None:
                obj.is_listed = p.listed
            if p.shipping_template_id is not None:
                obj.shipping_template_id = p.shipping_template_id or None
        Product.objects.bulk_update(
            list(objs.values()),
            ["name", "category", "subtitle", "description", "is_listed", "shipping_template", "updated_at"],
        )

    new_skus, old_skus = [], []
    for p in plan.products:
        for s in p.skus:
            sku = Sku(
                product_id=p.product_id,
                code=s.code,
                specs=s.specs,
                price=s.price,
                list_price=s.list_price,
                stock=s.stock,
                weight_grams=s.weight,
                is_active=s.active,
            )
            if s.sku_id is None:
                new_skus.append(sku)
            else:
                sku.pk = s.sku_id
                old_skus.append(sku)
    for chunk in _chunks(new_skus):
        Sku.objects.bulk_create(chunk)
    for chunk in _chunks(old_skus):
        Sku.objects.bulk_update(chunk, ["specs", "price", "list_price", "stock", "weight_grams", "is_active"])

    _write_images(plan)
    product_ids = [p.product_id for p in plan.products]
    refresh_summaries(product_ids)
    return product_ids


def _write_images(plan: Plan) -> None:
    replacing = [p for p in plan.products if p.images is not None]
    if not replacing:
        return
    keep_ids = {int(i.value) for p in replacing for i in p.images if i.source == "keep"}
    existing_ids = [p.product_id for p in replacing if p.product_id]
    dropped = []
    for chunk in _chunks(existing_ids):
        dropped += list(
            ProductImage.objects.filter(product_id__in=chunk)
            .exclude(pk__in=keep_ids)
            .values_list("pk", "image")
        )
    for chunk in _chunks(dropped):
        ProductImage.objects.filter(pk__in=[pk for pk, _ in chunk]).delete()
    names = [name for _, name in dropped]
    if names:
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])
    new_images, kept = [], []
    for p in replacing:
        for order, ref in enumerate(p.images):
            if ref.source == "keep":
                kept.append(ProductImage(pk=int(ref.value), product_id=p.product_id, sort_order=order))
            elif ref.stored:
                new_images.append(ProductImage(product_id=p.product_id, image=ref.stored, sort_order=order))
    for chunk in _chunks(kept):
        ProductImage.objects.bulk_update(chunk, ["sort_order"])
    for chunk in _chunks(new_images):
        ProductImage.objects.bulk_create(chunk)


def refresh_summaries(product_ids) -> None:
    """`products.refresh_summary` for many products, set-based: the cheapest active SKU's
    price, list price and weight onto each product, a few statements per chunk."""
    for chunk in _chunks(list(dict.fromkeys(product_ids))):
        cheapest: dict[int, tuple[int, int, int]] = {}
        for product_id, price, list_price, weight in (
            Sku.objects.filter(product_id__in=chunk, is_active=True)
            .order_by("product_id", "price", "id")
            .values_list("product_id", "price", "list_price", "weight_grams")
        ):
            cheapest.setdefault(product_id, (price, list_price, weight))
        products = list(Product.objects.filter(pk__in=chunk).only("pk", "weight_grams"))
        for product in products:
            price, list_price, weight = cheapest.get(product.pk, (0, 0, product.weight_grams))
            product.price, product.list_price, product.weight_grams = price, list_price, weight
        Product.objects.bulk_update(products, ["price", "list_price", "weight_grams"])


def register() -> None:
    jobs.register(IMPORT_KIND, label="导入商品", permission=IMPORT_PERMISSION, handler=run_import)


def template_file(fmt: str) -> tuple[str, bytes, str]:
    """(filename, content, content type) of the import template."""
    if fmt == "csv":
        return "商品导入模板.csv", spec.template_csv(), "text/csv; charset=utf-8"
    return (
        "商品导入模板.xlsx",
        spec.template_xlsx(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
