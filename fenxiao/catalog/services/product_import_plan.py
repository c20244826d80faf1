"""Checking a product file's rows and working out what the import would write (a `Plan`):
per-row errors by row and column, products grouped by name, SKUs matched by code, pictures
to keep, fetch or take from the zip, and which of them is each SKU's 规格图. Reads the
catalog; writes nothing."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import unquote, urlsplit

from fenxiao.core import safe_fetch
from fenxiao.core.money import yuan_to_fen
from fenxiao.shipping.models import ShippingTemplate

from ..models import ProductImage, Sku
from . import product_import_columns as spec
from .product_import_files import ImageZip, Row
from .products import sanitize_description

MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
MAX_STOCK = 10_000_000
MAX_WEIGHT = 1_000_000
MAX_DESCRIPTION = 50_000
# Rows read or written per statement.
CHUNK = 500


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


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
    image: str = ""  # the 规格图 cell
    # The 规格图: one of the product's pictures in the file, or one it has (its id).
    image_ref: "ImageRef | None" = None
    image_id: int | None = None

    def picture_id(self) -> int | None:
        return self.image_ref.image_id if self.image_ref is not None else self.image_id


@dataclass
class ImageRef:
    row: int
    source: str  # "keep" (a picture the product has), "zip" or "url"
    value: str  # ProductImage id for keep, zip name, URL
    stored: str = ""  # storage name once fetched / read
    image_id: int | None = None  # the ProductImage, once written
    text: str = ""  # as the file wrote it

    def __post_init__(self):
        self.text = self.text or self.value


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
    # SKU rows of this product refused on their own (a bad price, stock …): already reported.
    refused_skus: int = 0


@dataclass
class Plan:
    rows: int = 0
    products: list[ProductPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Whether the file has the 规格图 column: without it every SKU keeps its 规格图.
    sku_images: bool = False

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
    return "/".join(part.strip() for part in spec.CATEGORY_PATH_SEPARATORS.split(text) if part.strip())


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
    plan = Plan(rows=len(rows), sku_images=any("sku_image" in row.cells for row in rows))
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
                image=c.get("sku_image", ""),
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
                product.refused_skus += 1
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

    # 4. Pictures: the product's own (kept), in the zip (checked now), or URLs (later); then
    # each SKU's 规格图 among them.
    pictures = _check_images(plan, images)
    _check_sku_images(plan, pictures)
    # 5. Listing needs something to sell.
    _check_listing(plan)
    plan.errors.sort(key=lambda e: (e.row, spec.HEADERS.index(e.column) if e.column in spec.HEADERS else 99))
    return plan


def _check_images(plan: Plan, images: ImageZip) -> dict[int, dict[str, int]]:
    """Checks the 图片 cells; returns the pictures (storage name → id) of each existing
    product whose 图片 or 规格图 cells may name them."""
    existing_ids = [
        p.product_id for p in plan.products if p.product_id and (p.images or any(s.image for s in p.skus))
    ]
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
    return pictures


def _check_sku_images(plan: Plan, pictures: dict[int, dict[str, int]]) -> None:
    """A 规格图 names one of the product's 图片 in the file, as written there; with no 图片
    cell, one of the pictures an existing product has (by its URL, as an export writes it)."""
    for product in plan.products:
        listed: dict[str, ImageRef] = {}
        for ref in product.images or []:
            listed.setdefault(ref.text, ref)
        for sku in product.skus:
            if not sku.image:
                continue
            if product.images is not None:
                sku.image_ref = listed.get(sku.image)
            elif product.product_id and "://" in sku.image:
                sku.image_id = _existing_image(sku.image, pictures.get(product.product_id, {}))
            if sku.image_ref is None and sku.image_id is None:
                plan.error(
                    sku.row, "sku_image", f"规格图须是本商品“图片”中的一张，写法与图片列相同：{sku.image}"
                )


def _check_listing(plan: Plan) -> None:
    # A product whose SKU rows were refused has those errors to fix first; "没有可售的SKU"
    # on top would blame the 上架 cell for them.
    wanted = [
        p for p in plan.products if p.listed and not p.refused_skus and not any(s.active for s in p.skus)
    ]
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
