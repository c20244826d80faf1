"""Batch price / stock change (批量改价、改库存) over the active SKUs of many products.

All or nothing, set-based: the SKU rows are locked in id order, the new values are computed
in SQL by the same expression that writes them, and if any SKU would end with a price of
zero or less, a list price below its price, or negative stock, the change is refused with a
Chinese message naming the offenders and nothing is written. Otherwise one UPDATE writes
them all and one UPDATE refreshes the products' summary prices.

Percent changes are in basis points on integer fen, rounded down to the fen (the same
arithmetic as `core.money.apply_bp`).
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, IntegerField, Q, Value
from django.db.models.expressions import ExpressionWrapper
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import format_fen

from ..errors import CatalogInvalid
from ..models import Sku
from .products import refresh_summary

PRICE_SET, PRICE_UP, PRICE_DOWN, PRICE_UP_PCT, PRICE_DOWN_PCT = (
    "price_set",
    "price_up",
    "price_down",
    "price_up_pct",
    "price_down_pct",
)
STOCK_SET, STOCK_ADD = "stock_set", "stock_add"
OPERATIONS = {
    PRICE_SET: gettext_lazy("售价改为 ¥X"),
    PRICE_UP: gettext_lazy("售价提高 ¥X"),
    PRICE_DOWN: gettext_lazy("售价降低 ¥X"),
    PRICE_UP_PCT: gettext_lazy("售价提高 N%"),
    PRICE_DOWN_PCT: gettext_lazy("售价降低 N%"),
    STOCK_SET: gettext_lazy("库存改为 N 件"),
    STOCK_ADD: gettext_lazy("库存增加 N 件（负数为减少）"),
}
MAX_LISTED = 20


def _percent(bp: int) -> str:
    """1000 -> "10", 1250 -> "12.5": a rate as the merchant typed it."""
    return f"{bp // 100}.{bp % 100:02d}".rstrip("0").rstrip(".")


def describe(operation: str, value: int) -> str:
    """The change in words with its number in place: 售价降低 10%, 售价改为 ¥9.90,
    库存减少 5 件 (`value` is fen, bp or pieces, as for `batch_change`)."""
    if operation == PRICE_SET:
        return _("售价改为 %(amount)s") % {"amount": format_fen(value)}
    if operation == PRICE_UP:
        return _("售价提高 %(amount)s") % {"amount": format_fen(value)}
    if operation == PRICE_DOWN:
        return _("售价降低 %(amount)s") % {"amount": format_fen(value)}
    if operation == PRICE_UP_PCT:
        return _("售价提高 %(percent)s%%") % {"percent": _percent(value)}
    if operation == PRICE_DOWN_PCT:
        return _("售价降低 %(percent)s%%") % {"percent": _percent(value)}
    if operation == STOCK_SET:
        return _("库存改为 %(count)s 件") % {"count": value}
    if operation == STOCK_ADD and value < 0:
        return _("库存减少 %(count)s 件") % {"count": -value}
    return _("库存增加 %(count)s 件") % {"count": value}


@dataclass
class BatchResult:
    products: int
    skus: int


def _new_value(operation: str, value: int):
    """(field, SQL expression) for the operation; `value` is fen, bp or pieces."""
    as_int = IntegerField()
    if operation == PRICE_SET:
        return "price", Value(value, output_field=as_int)
    if operation == PRICE_UP:
        return "price", ExpressionWrapper(F("price") + value, output_field=as_int)
    if operation == PRICE_DOWN:
        return "price", ExpressionWrapper(F("price") - value, output_field=as_int)
    if operation in (PRICE_UP_PCT, PRICE_DOWN_PCT):
        factor = 10_000 + value if operation == PRICE_UP_PCT else 10_000 - value
        # Integer division of non-negative integers rounds down on SQLite and PostgreSQL.
        return "price", Cast(
            ExpressionWrapper(F("price") * factor / 10_000, output_field=as_int), output_field=as_int
        )
    if operation == STOCK_SET:
        return "stock", Value(value, output_field=as_int)
    if operation == STOCK_ADD:
        return "stock", ExpressionWrapper(F("stock") + value, output_field=as_int)
    raise CatalogInvalid(_("未知的批量操作"))


def _why(sku, field: str) -> str:
    if field == "stock":
        return _("（%(code)s，改后库存 %(new_value)s）") % {"code": sku.code, "new_value": sku.new_value}
    if sku.new_value <= 0:
        return _("（%(code)s，改后售价 %(new_value)s）") % {
            "code": sku.code,
            "new_value": format_fen(sku.new_value),
        }
    return _("（%(code)s，改后售价 %(new_value)s，划线价 %(list_price)s）") % {
        "code": sku.code,
        "new_value": format_fen(sku.new_value),
        "list_price": format_fen(sku.list_price),
    }


@transaction.atomic
def batch_change(product_ids, operation: str, value: int) -> BatchResult:
    ids = sorted({int(pk) for pk in product_ids})
    if not ids:
        raise CatalogInvalid(_("请先选择商品"))
    if value < 0 and operation != STOCK_ADD:
        raise CatalogInvalid(_("数值不能为负数"))
    if operation == PRICE_DOWN_PCT and value >= 10_000:
        raise CatalogInvalid(_("降价比例必须小于100%"))
    field, expression = _new_value(operation, value)
    skus = Sku.objects.filter(product_id__in=ids, is_active=True)
    # Lock in id order, like every other writer of SKU rows (orders take stock the same way).
    locked = list(skus.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not locked:
        raise CatalogInvalid(_("所选商品没有可售的规格"))
    annotated = Sku.objects.filter(pk__in=locked).annotate(new_value=expression)
    if field == "price":
        bad = Q(new_value__lte=0) | (Q(list_price__gt=0) & Q(list_price__lt=F("new_value")))
    else:
        bad = Q(new_value__lt=0)
    offenders = list(
        annotated.filter(bad).select_related("product").order_by("product_id", "pk")[: MAX_LISTED + 1]
    )
    if offenders:
        names = [
            f"{sku.product.name} {sku.spec_text}".strip() + _why(sku, field) for sku in offenders[:MAX_LISTED]
        ]
        more = _("等") if len(offenders) > MAX_LISTED else ""
        reason = _("改价后售价须大于 ¥0 且不高于划线价") if field == "price" else _("改后库存不能为负数")
        raise CatalogInvalid(
            _("%(reason)s，以下规格不符合，未做任何修改：") % {"reason": reason} + "、".join(names) + more
        )
    updated = Sku.objects.filter(pk__in=locked).update(**{field: expression})
    if field == "price":
        refresh_summary(ids)
    return BatchResult(
        products=len(set(Sku.objects.filter(pk__in=locked).values_list("product_id", flat=True))),
        skus=updated,
    )
