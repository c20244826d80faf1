"""Checkout: from chosen SKUs and an address to an unpaid order with its stock taken.

A fixed number of queries whatever the number of lines: SKUs are read in one query,
stock is taken by one conditional UPDATE, lines and their discounts are written by one
bulk insert each. Promotions price the basket in one place (`promotions_port.price`), in
the order flash/group price → 满减 → coupon; store credit is a tender, not a discount.
The shipping fee comes from the products' fee templates for the address's province
(`fenxiao.shipping.fees`, three more queries when any product names a template, read once
before pricing); a 包邮 promotion then waives it whole. The pricing engine is handed the fee
as arithmetic on those templates, so what it picks by itself (which 满减, the automatic
coupon) is what the buyer pays least for with postage — a coupon that takes the goods
below a free-shipping amount is not picked for them.

到店自提 (pickup): the buyer picks a store that holds every line (`stores_port`); the order
takes that store's stock instead of the online stock, carries no shipping fee and no
delivery address (the store's address is copied for the record), and gets a pickup code.
"""

import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.catalog.errors import InvalidQuantity, StockInsufficient
from fenxiao.catalog.services.skus import load_saleable
from fenxiao.catalog.services.stock import take_stock
from fenxiao.customers.services.addresses import get_address
from fenxiao.shipping import fees, regions
from fenxiao.shipping.errors import RegionUndeliverable
from fenxiao.shipping.services import load_fee_templates

from ..errors import (
    CartEmpty,
    OrderTooLarge,
    PickupUnavailable,
    PriceChanged,
    QuantityTooLarge,
    TooManyLines,
)
from ..models import ActorKind, CartLine, Fulfilment, Order, OrderDiscount, OrderLine, OrderSettings
from . import hooks, promotions_port, stores_port, tenders
from .cart import MAX_QUANTITY
from .events import log_event, new_number

MAX_LINES = 50
# Amounts are stored in 32-bit columns (≤ ¥21,474,836.47); one order stays well below.
MAX_ORDER_TOTAL = 1_000_000_000


@dataclass
class DiscountQuote:
    """One discount as the buyer sees it and the order keeps it (an `OrderDiscount` row)."""

    kind: str
    name: str
    amount: int
    promotion_id: int | None = None
    coupon_id: int | None = None


@dataclass
class LineQuote:
    sku: object
    quantity: int
    unit_price: int
    subtotal: int
    discount_share: int = 0
    original_price: int = 0
    discounts: list[DiscountQuote] = field(default_factory=list)
    commission_override: dict | None = None
    # The flash or group item whose price the line carries (its stock and limit are taken).
    promotion_item: object = None

    @property
    def paid_amount(self) -> int:
        return self.subtotal - self.discount_share

    @property
    def saved(self) -> int:
        return (self.original_price - self.unit_price) * self.quantity + self.discount_share


@dataclass
class CouponOption:
    """A buyer coupon at checkout: what it would take off this basket, or why it cannot."""

    id: int
    name: str
    valid_until: object
    discount: int = 0
    reason: str = ""

    @property
    def usable(self) -> bool:
        return not self.reason


@dataclass
class Quote:
    lines: list[LineQuote]
    goods_amount: int = 0
    discount_amount: int = 0
    shipping_fee: int = 0
    total: int = 0
    warnings: list[str] = field(default_factory=list)
    # Order-level discounts (满减, coupon, 包邮), each once; lines hold their shares.
    discounts: list[DiscountQuote] = field(default_factory=list)
    free_shipping: DiscountQuote | None = None
    coupon_options: list[CouponOption] = field(default_factory=list)
    coupon_id: int | None = None
    hints: list[str] = field(default_factory=list)  # 再买 ¥N 可减 ¥M
    group: object = None  # the group joined, or the promotion a new group opens in
    # The address's province is not delivered for some product: shown by checkout, and
    # raised by place_order.
    shipping_error: RegionUndeliverable | None = None
    fulfilment: str = Fulfilment.DELIVERY
    # Pickup: the stores that can serve the basket (nearest first with a location), the one
    # chosen if it still can, or why it cannot (raised by place_order).
    pickup_stores: list[stores_port.PickupStore] = field(default_factory=list)
    pickup_store: stores_port.PickupStore | None = None
    pickup_error: PickupUnavailable | None = None

    @property
    def is_pickup(self) -> bool:
        return self.fulfilment == Fulfilment.PICKUP

    @property
    def original_amount(self) -> int:
        return sum(line.original_price * line.quantity for line in self.lines)

    @property
    def saved_amount(self) -> int:
        """Everything promotions took off the catalog price, shipping included."""
        waived = self.free_shipping.amount if self.free_shipping else 0
        return self.original_amount - self.goods_amount + self.discount_amount + waived


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


def quote(
    requested,
    *,
    settings: OrderSettings | None = None,
    with_images=False,
    buyer=None,
    choice: promotions_port.Choice = promotions_port.Choice(),
    now=None,
    address=None,
    fulfilment: str = Fulfilment.DELIVERY,
    pickup_store_id: int | None = None,
    location: tuple | None = None,
) -> Quote:
    """Price a basket from the catalog and the promotions as they are now. Never trusts a
    price from the client. Without `buyer` (a visitor) no coupon or limit is looked at.
    Without `address` the shipping fee is the templates' default (no region rule).
    For pickup, the stores that can serve it are listed (nearest to `location`, (lat, lng),
    first) and the stock that counts is the chosen store's."""
    wanted = _merge(requested)
    skus = load_saleable(wanted.keys(), with_images=with_images)
    pickup = fulfilment == Fulfilment.PICKUP
    short = [] if pickup else [pk for pk, qty in wanted.items() if skus[pk].stock < qty]
    if short:
        names = _("、").join(
            _("%(name)s（剩%(left)s件）") % {"name": skus[pk].product.name, "left": skus[pk].stock}
            for pk in short
        )
        raise StockInsufficient(_("库存不足：%(names)s") % {"names": names}, short_sku_ids=short)
    q = Quote(
        lines=[
            LineQuote(
                sku=skus[pk],
                quantity=qty,
                unit_price=skus[pk].price,
                subtotal=skus[pk].price * qty,
                original_price=skus[pk].price,
            )
            for pk, qty in wanted.items()
        ]
    )
    settings = settings or OrderSettings.current()
    parcel = None if pickup else _Parcel(settings, q, address)
    # The engine weighs its choices (which 满减, the automatic coupon) by the finished total,
    # so it is told the postage; pickup sends nothing.
    promotions_port.price(q, buyer, choice, now or timezone.now(), parcel.fee if parcel else None)
    goods = sum(line.subtotal for line in q.lines)
    discount = sum(line.discount_share for line in q.lines)
    if pickup:
        _pickup(q, wanted, pickup_store_id, location)
        shipping, q.free_shipping = 0, None  # nothing is sent: no fee, nothing to waive
    else:
        shipping = parcel.quoted_fee(q)
    if q.free_shipping is not None:
        q.free_shipping.amount, shipping = shipping, 0
        if q.free_shipping.amount:
            q.discounts.append(q.free_shipping)
        else:
            q.free_shipping = None  # the shop ships this basket free anyway
    if goods + shipping > MAX_ORDER_TOTAL:
        raise OrderTooLarge()
    q.goods_amount, q.discount_amount, q.shipping_fee = goods, discount, shipping
    q.total = goods - discount + shipping
    return q


def _pickup(q: Quote, wanted: dict[int, int], store_id, location) -> None:
    lat, lng = location or (None, None)
    q.fulfilment = Fulfilment.PICKUP
    q.pickup_stores = stores_port.pickup_stores(wanted, lat=lat, lng=lng)
    if store_id:
        q.pickup_store = next((s for s in q.pickup_stores if s.id == store_id), None)
    if q.pickup_store is None:
        q.pickup_error = PickupUnavailable(
            _("请选择自提门店") if not store_id else None,
            code="PICKUP_STORE_REQUIRED" if not store_id else None,
        )


def _fee_lines(settings: OrderSettings, items) -> list[fees.Line]:
    """`items`: (sku with its product, quantity, amount paid) per line."""
    items = list(items)
    default = fees.shop_default(settings.shipping_fee, settings.free_shipping_threshold)
    templates = load_fee_templates(sku.product.shipping_template_id for sku, _, _ in items)
    return [
        fees.Line(
            template=templates.get(sku.product.shipping_template_id, default),
            quantity=quantity,
            weight_grams=(sku.weight_grams or sku.product.weight_grams) * quantity,
            amount=amount,
            name=sku.product.name,
        )
        for sku, quantity, amount in items
    ]


class _Parcel:
    """The basket's goods on their way to the address's province: the fee templates are read
    once (before pricing), and the fee for any amounts the lines might pay is arithmetic."""

    def __init__(self, settings: OrderSettings, q: Quote, address):
        self.lines = _fee_lines(settings, ((line.sku, line.quantity, line.subtotal) for line in q.lines))
        self.province = regions.province_code(address.province) if address is not None else None

    def _compute(self, paid: list[int]) -> int:
        lines = [replace(line, amount=amount) for line, amount in zip(self.lines, paid, strict=True)]
        return fees.compute(self.province, lines).amount

    def fee(self, paid: list[int]) -> int:
        """`promotions_port.ShippingFee`: an undeliverable province costs every choice the
        same (nothing), so it decides none of them."""
        try:
            return self._compute(paid)
        except RegionUndeliverable:
            return 0

    def quoted_fee(self, q: Quote) -> int:
        """The fee of the priced basket; an undeliverable province is kept on the quote
        (fee 0) for the page to say so."""
        try:
            return self._compute([line.paid_amount for line in q.lines])
        except RegionUndeliverable as error:
            q.shipping_error = error
            return 0


def order_shipping_fee(order: Order, province: str) -> int:
    """What the order's goods cost to send to `province` (a name) under today's templates;
    raises RegionUndeliverable. Used when staff change the address of an order."""
    items = [
        (line.sku, line.quantity, line.paid_amount)
        for line in order.lines.select_related("sku__product").order_by("pk")
    ]
    return fees.compute(regions.province_code(province), _fee_lines(OrderSettings.current(), items)).amount


def place_order(
    buyer,
    requested,
    *,
    address_id: int | None = None,
    note: str = "",
    expected_total: int | None = None,
    from_cart: bool = False,
    use_wallet: bool = False,
    choice: promotions_port.Choice = promotions_port.Choice(),
    fulfilment: str = Fulfilment.DELIVERY,
    pickup_store_id: int | None = None,
    client_token: str = "",
) -> Order:
    """Create an unpaid order. `requested` is [(sku_id, quantity)].

    `client_token` is the app's name for this checkout: the same buyer's token again (a
    request re-sent after a timeout, a double tap) returns the order it placed — checked
    first, and by a unique constraint for two arriving at once, when the later one's
    stock, promotions and store credit roll back with it.

    `fulfilment` pickup needs `pickup_store_id` (no address): the store's stock is taken.

    `expected_total` is what the buyer's screen showed; if the price moved meanwhile the
    order is refused rather than charged at a price the buyer did not see.
    `use_wallet` spends the buyer's store credit on it (see tenders): in part, leaving
    `amount_due` for the gateway, or in full, and then the order comes back already paid.
    `choice` names the coupon and the group buy; what the promotions hand out (flash
    stock, the buyer's limit, the coupon, a group seat) is taken in the same transaction.
    """
    placed = placed_order(buyer, client_token)
    if placed is not None:
        return placed
    pickup = fulfilment == Fulfilment.PICKUP
    address = None if pickup else get_address(buyer, address_id)
    settings = OrderSettings.current()
    q = quote(
        requested,
        settings=settings,
        with_images=True,
        buyer=buyer,
        choice=choice,
        address=address,
        fulfilment=Fulfilment.PICKUP if pickup else Fulfilment.DELIVERY,
        pickup_store_id=pickup_store_id,
    )
    if q.shipping_error is not None:
        raise q.shipping_error
    if q.pickup_error is not None:
        raise q.pickup_error
    if expected_total is not None and expected_total != q.total:
        raise PriceChanged(expected_total=expected_total, total=q.total)
    now = timezone.now()
    try:
        with transaction.atomic():
            taken = {line.sku.pk: line.quantity for line in q.lines}
            if pickup:
                # The store's own shelf, by a conditional UPDATE: never oversold (the list above
                # was read before this transaction).
                stores_port.take_stock(q.pickup_store.id, taken)
            else:
                # A shortage propagates out of this block, which rolls the whole order back.
                take_stock(taken, savepoint=False)
            order = _create_order(buyer, q, address, note, now, settings, client_token)
            lines = OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        sku=line.sku,
                        product=line.sku.product,
                        product_name=line.sku.product.name,
                        sku_code=line.sku.code,
                        spec_text=line.sku.spec_text[:120],
                        image_url=_picture_url(line.sku),
                        unit_price=line.unit_price,
                        list_price=line.sku.list_price,
                        original_price=line.original_price,
                        quantity=line.quantity,
                        subtotal=line.subtotal,
                        discount_share=line.discount_share,
                        paid_amount=line.paid_amount,
                        commission_override=line.commission_override,
                    )
                    for line in q.lines
                ]
            )
            _record_discounts(order, q, lines)
            promotions_port.order_placed(order, q, buyer, choice)
            log_event(
                order,
                "created",
                ActorKind.BUYER,
                gettext_noop("买家下单"),
                actor=buyer,
                total=order.total,
                lines=len(q.lines),
            )
            hooks.order_placed(order)
            if from_cart:
                CartLine.objects.filter(
                    cart__buyer=buyer, sku_id__in=[line.sku.pk for line in q.lines]
                ).delete()
            if use_wallet:
                tenders.pay_with_wallet(order)
    except _SameCheckout:
        # The same checkout arrived twice at once and the other placed it: this one's
        # stock, promotions and store credit rolled back above.
        return Order.objects.get(buyer=buyer, client_token=client_token)
    return order


def placed_order(buyer, client_token: str) -> Order | None:
    """The order the buyer's checkout named `client_token` placed, if it did."""
    if not client_token:
        return None
    return Order.objects.filter(buyer=buyer, client_token=client_token).first()


class _SameCheckout(Exception):
    """Another request with the same client token placed its order first."""


def _record_discounts(order: Order, q: Quote, lines: list[OrderLine]) -> None:
    rows = [
        OrderDiscount(order=order, line=line, **vars(discount))
        for line, quoted in zip(lines, q.lines, strict=True)
        for discount in quoted.discounts
        if discount.amount
    ]
    if q.free_shipping is not None:
        rows.append(OrderDiscount(order=order, line=None, **vars(q.free_shipping)))
    if rows:
        OrderDiscount.objects.bulk_create(rows)


def new_pickup_code() -> str:
    """8 random digits: short to read out at the counter, unique among open pickups (a
    partial unique constraint; a clash is retried with a new code)."""
    return f"{secrets.randbelow(10**8):08d}"


def _create_order(buyer, q: Quote, address, note, now, settings, client_token: str = "") -> Order:
    fields = {
        "buyer": buyer,
        "client_token": client_token,
        "goods_amount": q.goods_amount,
        "discount_amount": q.discount_amount,
        "shipping_fee": q.shipping_fee,
        "total": q.total,
        "note": (note or "")[:200],
        "pay_deadline": now + timedelta(minutes=settings.payment_timeout_minutes),
    }
    if q.is_pickup:
        store = q.pickup_store
        # The buyer collects it: their own name and phone; the store's address for the record.
        fields.update(
            fulfilment=Fulfilment.PICKUP,
            pickup_store_id=store.id,
            recipient=buyer.display_name[:40],
            recipient_phone=(buyer.phone or "")[:11],
            province=store.province,
            city=store.city,
            district=store.district,
            address_detail=f"{store.name}（到店自提）{store.address_detail}"[:200],
        )
    else:
        fields.update(
            recipient=address.recipient,
            recipient_phone=address.phone,
            province=address.province,
            city=address.city,
            district=address.district,
            address_detail=address.detail,
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                code = {"pickup_code": new_pickup_code()} if q.is_pickup else {}
                return Order.objects.create(number=new_number(), **code, **fields)
        except IntegrityError:
            if client_token and Order.objects.filter(buyer=buyer, client_token=client_token).exists():
                raise _SameCheckout() from None
            continue
    raise IntegrityError("could not allocate a unique order number")


def _picture_url(sku) -> str:
    """The line's picture as the buyer chose it: the SKU's 规格图, else the cover."""
    picture = sku.picture
    return picture.image.url if picture else ""
