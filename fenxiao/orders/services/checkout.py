"""Checkout: from chosen SKUs and an address to an unpaid order with its stock taken.

A fixed number of queries whatever the number of lines: SKUs are read in one query,
stock is taken by one conditional UPDATE, lines are written by one bulk insert.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from fenxiao.catalog.errors import InvalidQuantity, StockInsufficient
from fenxiao.catalog.services.skus import load_saleable
from fenxiao.catalog.services.stock import take_stock
from fenxiao.core.money import allocate
from fenxiao.customers.services.addresses import get_address

from ..errors import CartEmpty, OrderTooLarge, PriceChanged, QuantityTooLarge, TooManyLines
from ..models import ActorKind, CartLine, Order, OrderLine, OrderSettings
from . import hooks, tenders
from .cart import MAX_QUANTITY
from .events import log_event, new_number

MAX_LINES = 50
# Amounts are stored in 32-bit columns (≤ ¥21,474,836.47); one order stays well below.
MAX_ORDER_TOTAL = 1_000_000_000


@dataclass
class LineQuote:
    sku: object
    quantity: int
    unit_price: int
    subtotal: int
    discount_share: int = 0

    @property
    def paid_amount(self) -> int:
        return self.subtotal - self.discount_share


@dataclass
class Quote:
    lines: list[LineQuote]
    goods_amount: int
    discount_amount: int
    shipping_fee: int
    total: int
    warnings: list[str] = field(default_factory=list)


def _merge(requested) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for sku_id, quantity in requested:
        if quantity is None or int(quantity) <= 0:
            raise InvalidQuantity()
        wanted[int(sku_id)] = wanted.get(int(sku_id), 0) + int(quantity)
    if not wanted:
        raise CartEmpty()
    if len(wanted) > MAX_LINES:
        raise TooManyLines()
    if any(q > MAX_QUANTITY for q in wanted.values()):
        raise QuantityTooLarge()
    return wanted


def quote(requested, *, settings: OrderSettings | None = None, with_images=False) -> Quote:
    """Price a basket from the catalog as it is now. Never trusts a price from the client."""
    wanted = _merge(requested)
    skus = load_saleable(wanted.keys(), with_images=with_images)
    short = [pk for pk, qty in wanted.items() if skus[pk].stock < qty]
    if short:
        names = "、".join(f"{skus[pk].product.name}（剩{skus[pk].stock}件）" for pk in short)
        raise StockInsufficient(f"库存不足：{names}", short_sku_ids=short)
    lines = [
        LineQuote(sku=skus[pk], quantity=qty, unit_price=skus[pk].price, subtotal=skus[pk].price * qty)
        for pk, qty in wanted.items()
    ]
    goods = sum(line.subtotal for line in lines)
    discount = 0  # order-level promotions plug in here and are spread with `allocate`
    for line, share in zip(lines, allocate(discount, [ln.subtotal for ln in lines]), strict=True):
        line.discount_share = share
    settings = settings or OrderSettings.current()
    shipping = settings.shipping_for(goods - discount)
    if goods + shipping > MAX_ORDER_TOTAL:
        raise OrderTooLarge()
    return Quote(
        lines=lines,
        goods_amount=goods,
        discount_amount=discount,
        shipping_fee=shipping,
        total=goods - discount + shipping,
    )


def place_order(
    buyer,
    requested,
    *,
    address_id: int,
    note: str = "",
    expected_total: int | None = None,
    from_cart: bool = False,
    use_wallet: bool = False,
) -> Order:
    """Create an unpaid order. `requested` is [(sku_id, quantity)].

    `expected_total` is what the buyer's screen showed; if the price moved meanwhile the
    order is refused rather than charged at a price the buyer did not see.
    `use_wallet` spends the buyer's store credit on it (see tenders): in part, leaving
    `amount_due` for the gateway, or in full, and then the order comes back already paid.
    """
    address = get_address(buyer, address_id)
    settings = OrderSettings.current()
    q = quote(requested, settings=settings, with_images=True)
    if expected_total is not None and expected_total != q.total:
        raise PriceChanged(expected_total=expected_total, total=q.total)
    now = timezone.now()
    with transaction.atomic():
        take_stock({line.sku.pk: line.quantity for line in q.lines})
        order = _create_order(buyer, q, address, note, now, settings)
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    sku=line.sku,
                    product=line.sku.product,
                    product_name=line.sku.product.name,
                    sku_code=line.sku.code,
                    spec_text=line.sku.spec_text[:120],
                    image_url=_cover(line.sku.product),
                    unit_price=line.unit_price,
                    list_price=line.sku.list_price,
                    quantity=line.quantity,
                    subtotal=line.subtotal,
                    discount_share=line.discount_share,
                    paid_amount=line.paid_amount,
                )
                for line in q.lines
            ]
        )
        log_event(
            order, "created", ActorKind.BUYER, "买家下单", actor=buyer, total=order.total, lines=len(q.lines)
        )
        hooks.order_placed(order)
        if from_cart:
            CartLine.objects.filter(cart__buyer=buyer, sku_id__in=[line.sku.pk for line in q.lines]).delete()
        if use_wallet:
            tenders.pay_with_wallet(order)
    return order


def _create_order(buyer, q: Quote, address, note, now, settings) -> Order:
    fields = {
        "buyer": buyer,
        "goods_amount": q.goods_amount,
        "discount_amount": q.discount_amount,
        "shipping_fee": q.shipping_fee,
        "total": q.total,
        "recipient": address.recipient,
        "recipient_phone": address.phone,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "address_detail": address.detail,
        "note": (note or "")[:200],
        "pay_deadline": now + timedelta(minutes=settings.payment_timeout_minutes),
    }
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Order.objects.create(number=new_number(), **fields)
        except IntegrityError:
            continue
    raise IntegrityError("could not allocate a unique order number")


def _cover(product) -> str:
    images = list(product.images.all())
    return images[0].image.url if images else ""
