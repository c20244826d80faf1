"""The buyer's cart."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from fenxiao.catalog.errors import InvalidQuantity, SkuNotFound, StockInsufficient
from fenxiao.catalog.services.skus import load_saleable
from fenxiao.core.errors import DomainError

from ..errors import QuantityTooLarge
from ..models import Cart, CartLine

MAX_QUANTITY = 999


def cart_for(buyer) -> Cart:
    cart, _created = Cart.objects.get_or_create(buyer=buyer)
    return cart


def _check_quantity(quantity: int) -> None:
    if quantity <= 0:
        raise InvalidQuantity()
    if quantity > MAX_QUANTITY:
        raise QuantityTooLarge()


def add_to_cart(buyer, sku_id: int, quantity: int) -> CartLine:
    # No transaction around the whole: the reads only check (a cart holds no stock), and
    # each write stands alone: the insert, whose clash with a simultaneous add of the same
    # SKU falls back to the increment, and the increment, one UPDATE.
    _check_quantity(quantity)
    sku = load_saleable([sku_id])[sku_id]
    cart = cart_for(buyer)
    line = CartLine.objects.filter(cart=cart, sku=sku).first()
    wanted = quantity + (line.quantity if line else 0)
    _check_quantity(wanted)
    if wanted > sku.stock:
        raise StockInsufficient(_("库存不足，仅剩%(stock)s件") % {"stock": sku.stock})
    if line is None:
        try:
            with transaction.atomic():
                return CartLine.objects.create(cart=cart, sku=sku, quantity=quantity)
        except IntegrityError:
            line = CartLine.objects.get(cart=cart, sku=sku)
    CartLine.objects.filter(pk=line.pk).update(quantity=F("quantity") + quantity)
    line.refresh_from_db()
    return line


@transaction.atomic
def set_quantity(buyer, line_id: int, quantity: int) -> CartLine:
    _check_quantity(quantity)
    line = CartLine.objects.select_related("sku").filter(cart__buyer=buyer, pk=line_id).first()
    if line is None:
        from fenxiao.core.errors import NotFound

        raise NotFound(_("购物车中没有该商品"))
    if quantity > line.sku.stock:
        raise StockInsufficient(_("库存不足，仅剩%(stock)s件") % {"stock": line.sku.stock})
    # A conditional update: the line may be removed (another tab, checkout) since it was read.
    if not CartLine.objects.filter(pk=line.pk).update(quantity=quantity):
        from fenxiao.core.errors import NotFound

        raise NotFound(_("购物车中没有该商品"))
    line.quantity = quantity
    return line


@transaction.atomic
def change_sku(buyer, line_id: int, sku_id: int) -> CartLine:
    """Another spec of the same product for a cart line (选规格 in the cart). Moved onto a
    SKU the cart already holds, the two lines become one with both quantities."""
    # The cart row locked: one change of this buyer's lines at a time.
    cart = Cart.objects.select_for_update().filter(buyer=buyer).first()
    line = CartLine.objects.select_related("sku").filter(cart=cart, pk=line_id).first() if cart else None
    if line is None:
        from fenxiao.core.errors import NotFound

        raise NotFound(_("购物车中没有该商品"))
    sku = load_saleable([sku_id])[sku_id]
    if sku.product_id != line.sku.product_id:
        raise SkuNotFound(_("请选择这个商品的规格"))
    if sku.pk == line.sku_id:
        return line
    other = CartLine.objects.filter(cart=cart, sku=sku).first()
    wanted = line.quantity + (other.quantity if other else 0)
    _check_quantity(wanted)
    if wanted > sku.stock:
        raise StockInsufficient(_("库存不足，仅剩%(stock)s件") % {"stock": sku.stock})
    if other is None:
        try:
            with transaction.atomic():
                CartLine.objects.filter(pk=line.pk).update(sku=sku)
                line.sku = sku
                return line
        except IntegrityError:  # added from a product page meanwhile (no cart lock there)
            other = CartLine.objects.get(cart=cart, sku=sku)
    CartLine.objects.filter(pk=other.pk).update(quantity=F("quantity") + line.quantity)
    line.delete()
    other.refresh_from_db()
    return other


@transaction.atomic
def change_line(buyer, line_id: int, *, sku_id: int | None = None, quantity: int | None = None) -> CartLine:
    """The spec, then the quantity, of a line, all or nothing (merged into a line of that
    spec, the quantity is the merged line's)."""
    line = None
    if sku_id is not None:
        line = change_sku(buyer, line_id, sku_id)
    if quantity is not None:
        line = set_quantity(buyer, line.pk if line else line_id, quantity)
    return line


def remove_lines(buyer, line_ids) -> None:
    CartLine.objects.filter(cart__buyer=buyer, pk__in=list(line_ids)).delete()


@dataclass(frozen=True)
class BuyAgain:
    """What 再来一单 put in the cart, and what it could not, each with why."""

    added: int  # pieces
    skipped: list[tuple[str, str]]  # (product and spec, the refusal)


def buy_again(buyer, order) -> BuyAgain:
    """再来一单: each line of the buyer's `order` goes into the cart again, same SKU and
    quantity, as `add_to_cart` would put it (stock and the per-line cap checked). A line that
    can no longer be bought (delisted, out of stock, its spec gone) is skipped and named; the
    rest go in. Lines of one SKU are summed. The prices are today's, as in any cart."""
    wanted: dict[int, int] = {}
    names: dict[int, str] = {}
    for line in order.lines.all():
        wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
        names[line.sku_id] = f"{line.product_name} {line.spec_text}".strip()
    added, skipped = 0, []
    for sku_id, quantity in wanted.items():
        try:
            add_to_cart(buyer, sku_id, quantity)
        except DomainError as refused:
            skipped.append((names[sku_id], refused.message))
        else:
            added += quantity
    return BuyAgain(added, skipped)
