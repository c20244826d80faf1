"""The spec matrix (规格矩阵): spec names with their values → one SKU per combination.

Invariants kept here:
- a SKU keeps its id (and so its orders, cart lines and commission rules) for as long as its
  spec combination stays in the matrix, whatever else about it changes, and also when a spec
  value or name is renamed in the editor (the row carries the id it was shown with);
- a combination taken out of the matrix is switched off (`is_active=False`), never deleted:
  order lines protect SKUs, and re-adding the combination later switches the same SKU back on;
- the whole matrix is written in one transaction or not at all, and the product's summary
  (lowest active price, its list price, weight) is refreshed in the same transaction;
- stock typed by staff is applied as the difference from what the page showed (`stock_seen`),
  never as an overwrite, so sales made while the page was open are not lost; a difference
  that would take stock below zero refuses the whole save.

`parse_matrix` turns the JSON the editor posts into checked rows (every error in Chinese,
all of them at once); `save_matrix` applies checked rows.
"""

import itertools
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from fenxiao.core.money import fen_to_yuan, yuan_to_fen

from ..errors import CatalogInvalid
from ..models import Product, ProductImage, Sku
from .products import refresh_summary

MAX_SPECS = 3
MAX_VALUES = 50
MAX_ROWS = 600
MAX_STOCK = 10_000_000
MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
CODE_MAX = 40


@dataclass
class SkuRow:
    specs: dict[str, str]
    code: str
    price: int
    list_price: int = 0
    stock: int = 0
    weight_grams: int = 0
    stock_seen: int | None = None
    sku_id: int | None = None  # the SKU this row was shown for, when the page opened
    image_id: int | None = None  # its 规格图, a ProductImage of the same product


@dataclass
class Matrix:
    specs: list[tuple[str, list[str]]]
    rows: list[SkuRow] = field(default_factory=list)


def combination_key(specs: dict) -> frozenset:
    return frozenset((str(k), str(v)) for k, v in (specs or {}).items())


def combinations(specs: list[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """The cartesian product, in the order the values were typed (first spec varies slowest)."""
    if not specs:
        return [{}]
    names = [name for name, _ in specs]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(v for _, v in specs))]


# --- reading what the editor posts ------------------------------------------------------------


def _text(value, limit: int) -> str:
    return str(value if value is not None else "").strip()[:limit]


def _fen(value, label: str, errors: list[str], *, required: bool) -> int:
    text = str(value if value is not None else "").strip()
    if not text:
        if required:
            errors.append(_("%(label)s：请填写售价") % {"label": label})
        return 0
    try:
        fen = yuan_to_fen(text)
    except ValueError:
        errors.append(
            _("%(label)s：金额“%(text)s”格式有误，最多两位小数") % {"label": label, "text": text[:20]}
        )
        return 0
    if fen < 0:
        errors.append(_("%(label)s：金额不能为负数") % {"label": label})
        return 0
    if fen > MAX_PRICE_FEN:
        errors.append(_("%(label)s：金额超出范围") % {"label": label})
        return 0
    return fen


def _int(value, label: str, name: str, errors: list[str], *, default=0, allow_none=False):
    text = str(value if value is not None else "").strip()
    if not text:
        return None if allow_none else default
    try:
        number = int(text)
    except ValueError:
        errors.append(_("%(label)s：%(name)s必须是整数") % {"label": label, "name": name})
        return default
    if number < 0 or number > MAX_STOCK:
        errors.append(_("%(label)s：%(name)s不能为负数或过大") % {"label": label, "name": name})
        return default
    return number


def _posted_id(value) -> int | None:
    return value if type(value) is int and value > 0 else None


def parse_matrix(raw: str) -> Matrix:
    """The editor's JSON → a checked Matrix. Raises CatalogInvalid listing every problem."""
    try:
        data = json.loads(raw or "{}")
    except ValueError as exc:
        raise CatalogInvalid(_("规格数据格式有误，请刷新页面后重试")) from exc
    if not isinstance(data, dict) or not isinstance(data.get("specs", []), list):
        raise CatalogInvalid(_("规格数据格式有误，请刷新页面后重试"))
    errors: list[str] = []
    specs: list[tuple[str, list[str]]] = []
    for spec in data.get("specs") or []:
        if not isinstance(spec, dict):
            raise CatalogInvalid(_("规格数据格式有误，请刷新页面后重试"))
        name = _text(spec.get("name"), 100)
        values = [_text(v, 100) for v in (spec.get("values") or []) if isinstance(v, (str, int))]
        if not name:
            errors.append(_("规格名不能为空"))
            continue
        if len(name) > 20:
            errors.append(_("规格名“%(name)s”最多20个字") % {"name": name})
        if any(name == other for other, _ in specs):
            errors.append(_("规格名“%(name)s”重复") % {"name": name})
        if not values:
            errors.append(_("规格“%(name)s”至少需要一个规格值") % {"name": name})
        if any(not v for v in values):
            errors.append(_("规格“%(name)s”有空的规格值") % {"name": name})
        if any(len(v) > 40 for v in values):
            errors.append(_("规格“%(name)s”的规格值最多40个字") % {"name": name})
        duplicates = sorted({v for v in values if v and values.count(v) > 1})
        if duplicates:
            errors.append(
                _("规格“%(name)s”的规格值重复：%(duplicates)s")
                % {"name": name, "duplicates": "、".join(duplicates)}
            )
        if len(values) > MAX_VALUES:
            errors.append(
                _("规格“%(name)s”最多%(MAX_VALUES)s个规格值") % {"name": name, "MAX_VALUES": MAX_VALUES}
            )
        specs.append((name, [v for v in values if v]))
    if len(specs) > MAX_SPECS:
        errors.append(_("最多%(MAX_SPECS)s种规格") % {"MAX_SPECS": MAX_SPECS})
    if errors:
        raise CatalogInvalid("；".join(errors), errors=errors)

    wanted = combinations(specs)
    if len(wanted) > MAX_ROWS:
        raise CatalogInvalid(
            _("规格组合最多%(MAX_ROWS)s个，当前%(count)s个") % {"MAX_ROWS": MAX_ROWS, "count": len(wanted)}
        )
    posted: dict[frozenset, dict] = {}
    for row in data.get("rows") or []:
        if isinstance(row, dict) and isinstance(row.get("specs", {}), dict):
            posted[combination_key(row.get("specs") or {})] = row
    rows: list[SkuRow] = []
    codes: dict[str, str] = {}
    for combo in wanted:
        label = " / ".join(combo.values()) or _("默认规格")
        row = posted.get(combination_key(combo))
        if row is None:
            errors.append(_("%(label)s：缺少这一行，请刷新页面后重试") % {"label": label})
            continue
        before = len(errors)
        price = _fen(row.get("price"), label, errors, required=True)
        if price == 0 and len(errors) == before:
            errors.append(_("%(label)s：售价必须大于0") % {"label": label})
        list_price = _fen(row.get("list_price"), label, errors, required=False)
        if price and list_price and list_price < price:
            errors.append(_("%(label)s：划线价不能低于售价（不显示请留空）") % {"label": label})
        code = _text(row.get("code"), 200)
        if len(code) > CODE_MAX:
            errors.append(
                _("%(label)s：SKU编码最多%(CODE_MAX)s个字符") % {"label": label, "CODE_MAX": CODE_MAX}
            )
        if code and code in codes:
            errors.append(
                _("SKU编码“%(code)s”重复（%(codes)s、%(label)s）")
                % {"code": code, "codes": codes[code], "label": label}
            )
        if code:
            codes[code] = label
        rows.append(
            SkuRow(
                specs=combo,
                code=code,
                price=price,
                list_price=list_price,
                stock=_int(row.get("stock"), label, _("库存"), errors),
                weight_grams=_int(row.get("weight_grams"), label, _("重量"), errors),
                stock_seen=_int(row.get("stock_seen"), label, _("库存"), errors, allow_none=True),
                sku_id=_posted_id(row.get("id")),
                image_id=_posted_id(row.get("image")),
            )
        )
    if errors:
        raise CatalogInvalid("；".join(errors), errors=errors)
    return Matrix(specs=specs, rows=rows)


def check_codes_free(product: Product | None, matrix: Matrix) -> None:
    """SKU codes are unique across the shop: refuse codes another product's SKU holds."""
    codes = [row.code for row in matrix.rows if row.code]
    taken = Sku.objects.filter(code__in=codes)
    if product is not None and product.pk:
        taken = taken.exclude(product=product)
    clashes = sorted(taken.values_list("code", flat=True))
    if clashes:
        message = _("SKU编码已被其他商品使用：") + "、".join(clashes[:20])
        raise CatalogInvalid(message, errors=[message])


# --- the editor's starting point --------------------------------------------------------------


def matrix_state(product: Product | None) -> dict:
    """What the editor shows when the page opens: specs in use and one row per active SKU."""
    if product is None or not product.pk:
        return {"specs": [], "rows": []}
    skus = list(Sku.objects.filter(product=product, is_active=True).order_by("id"))
    names: list[str] = []
    values: dict[str, list[str]] = {}
    for sku in skus:
        for name, value in (sku.specs or {}).items():
            if name not in values:
                names.append(name)
                values[name] = []
            if str(value) not in values[name]:
                values[name].append(str(value))
    return {
        "specs": [{"name": name, "values": values[name]} for name in names],
        "rows": [
            {
                "id": sku.pk,
                "specs": {str(k): str(v) for k, v in (sku.specs or {}).items()},
                "code": sku.code,
                "price": fen_to_yuan(sku.price),
                "list_price": fen_to_yuan(sku.list_price) if sku.list_price else "",
                "stock": sku.stock,
                "stock_seen": sku.stock,
                "weight_grams": sku.weight_grams,
                "image": sku.image_id,
            }
            for sku in skus
        ],
    }


def restock_state(raw: str) -> str | None:
    """The editor's posted JSON after a refused save, each saved SKU's stock re-read: the
    change typed (typed minus `stock_seen`) is carried onto the stock there is now, or, where
    that would go below zero (why the save was refused), the row shows the stock now, to be
    typed again. None when `raw` is not the editor's JSON."""
    try:
        state = json.loads(raw)
        rows = [row for row in state["rows"] if isinstance(row, dict)]
    except (ValueError, KeyError, TypeError):
        return None
    ids = [row["id"] for row in rows if isinstance(row.get("id"), int)]
    now = dict(Sku.objects.filter(pk__in=ids).values_list("pk", "stock"))
    for row in rows:
        stock = now.get(row.get("id"))
        try:
            change = int(row.get("stock")) - int(row.get("stock_seen"))
        except (TypeError, ValueError):
            continue
        if stock is not None:
            row["stock"], row["stock_seen"] = (stock + change if stock + change >= 0 else stock), stock
    return json.dumps(state, ensure_ascii=False)


# --- writing ----------------------------------------------------------------------------------


@dataclass
class MatrixResult:
    created: int = 0
    updated: int = 0
    deactivated: int = 0


def _new_code(product: Product, taken: set[str]) -> str:
    n = 1
    while f"P{product.pk}-{n}" in taken:
        n += 1
    code = f"P{product.pk}-{n}"
    taken.add(code)
    return code


@transaction.atomic
def save_matrix(product: Product, matrix: Matrix) -> MatrixResult:
    """Write the matrix onto `product`'s SKUs (see the module docstring for the rules)."""
    check_codes_free(product, matrix)
    # Locked in id order, like every other writer of SKU rows.
    existing = list(Sku.objects.select_for_update().filter(product=product).order_by("pk"))
    by_combo: dict[frozenset, Sku] = {}
    for sku in existing:
        # Two SKUs with the same combination (old hand-typed data): prefer the active one.
        key = combination_key(sku.specs)
        if key not in by_combo or (sku.is_active and not by_combo[key].is_active):
            by_combo[key] = sku
    # Each row finds its SKU by combination first; a row the editor says came from a SKU
    # (a renamed spec value or name: "红" → "酒红") then takes that SKU if nothing else did.
    by_id = {sku.pk: sku for sku in existing}
    matched: list[Sku | None] = [None] * len(matrix.rows)
    kept_ids: set[int] = set()
    for i, row in enumerate(matrix.rows):
        sku = by_combo.get(combination_key(row.specs))
        if sku is not None and sku.pk not in kept_ids:
            matched[i] = sku
            kept_ids.add(sku.pk)
    for i, row in enumerate(matrix.rows):
        sku = by_id.get(row.sku_id) if row.sku_id else None
        if matched[i] is None and sku is not None and sku.pk not in kept_ids:
            matched[i] = sku
            kept_ids.add(sku.pk)
    # A row left without a code keeps its SKU's code; that must not clash with a typed one.
    for row, sku in zip(matrix.rows, matched, strict=True):
        if not row.code and sku is not None:
            if any(other.code == sku.code for other in matrix.rows if other is not row):
                message = _("SKU编码“%(code)s”重复") % {"code": sku.code}
                raise CatalogInvalid(message, errors=[message])
            row.code = sku.code
    wanted_codes = {row.code for row in matrix.rows if row.code}
    taken = (
        set(Sku.objects.filter(code__startswith=f"P{product.pk}-").values_list("code", flat=True))
        | wanted_codes
    )

    # A SKU going out of use (or already out) that holds a code a row now wants gives it up,
    # and every kept SKU whose code changes parks on a unique placeholder first, so swapping
    # codes between rows never trips the unique constraint halfway.
    for sku in existing:
        if sku.pk not in kept_ids and sku.code in wanted_codes:
            Sku.objects.filter(pk=sku.pk).update(code=f"{sku.code[:24]}-old-{sku.pk}"[:CODE_MAX])
    for row, sku in zip(matrix.rows, matched, strict=True):
        if sku is not None and row.code and row.code != sku.code:
            Sku.objects.filter(pk=sku.pk).update(code=f"~{sku.pk}")

    pictures = set(ProductImage.objects.filter(product=product).values_list("pk", flat=True))
    result = MatrixResult()
    short: list[str] = []
    for row, sku in zip(matrix.rows, matched, strict=True):
        code = row.code or (sku.code if sku is not None else _new_code(product, taken))
        image_id = row.image_id if row.image_id in pictures else None
        if sku is None:
            Sku.objects.create(
                product=product,
                code=code,
                specs=row.specs,
                price=row.price,
                list_price=row.list_price,
                stock=row.stock,
                weight_grams=row.weight_grams,
                image_id=image_id,
                is_active=True,
            )
            result.created += 1
            continue
        Sku.objects.filter(pk=sku.pk).update(
            code=code,
            specs=row.specs,
            price=row.price,
            list_price=row.list_price,
            weight_grams=row.weight_grams,
            image_id=image_id,
            is_active=True,
        )
        result.updated += 1
        delta = row.stock - (sku.stock if row.stock_seen is None else row.stock_seen)
        if delta and not Sku.objects.filter(pk=sku.pk, stock__gte=-delta).update(stock=F("stock") + delta):
            short.append(
                _("%(spec)s（当前库存 %(stock)s）")
                % {"spec": " / ".join(row.specs.values()) or _("默认规格"), "stock": sku.stock}
            )
    if short:
        # The editor shows its page again with the stock now (`restock_state`): check and save.
        message = _("库存未调整，可能已有新订单；已按当前库存更新，请核对后重新保存：")
        raise CatalogInvalid(message + "；".join(short), errors=short)
    gone = [sku.pk for sku in existing if sku.pk not in kept_ids and sku.is_active]
    if gone:
        result.deactivated = Sku.objects.filter(pk__in=gone).update(is_active=False)
    refresh_summary([product.pk])
    return result
